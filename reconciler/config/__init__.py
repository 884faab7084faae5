"""The config boundary: pipeline files in, validated models and planner specs out.

``yaml_source`` reads YAML with positions; ``models`` (with ``quality_models``,
``dependency_models``, ``value_types``, ``strict_model``) are the pydantic models;
``loading`` loads a config dir (with the ``cache``) into ``LoadedPipeline``s;
``checks``, ``bounds``, ``cycles``, ``file_checks``, ``sql_binding``,
``secret_shapes`` are the checks past the schema, ``validation`` runs them over a
config dir, ``fleet_checks`` checks the dependencies between its files, and
``messages`` words their errors; ``specs`` turns a model into the planner's spec,
``rows`` into state rows; ``templates`` and ``run_values`` fill a run's parameters;
``schema`` exports the JSON Schema.
"""
