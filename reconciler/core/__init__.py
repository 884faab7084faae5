"""The pure core: every decision of the reconciler, as functions over frozen data.

- ``spec``: what the planner knows of a pipeline; ``calendar``: which dates a schedule
  holds and when each is due; ``intervals`` and ``coverage``: covered dates as ranges and
  the observed state (with ``applied``: the applied configs, parsed when read);
  ``dependencies``: which upstream dates a date needs.
- ``planner`` (ordering) and ``pipeline_decisions`` (one pipeline's dates), with
  ``fleet`` (which leaves out a pipeline whose planning fails), make a ``plan``: its
  records in ``plan_records``, its compact forms behind it in ``compact_actions``,
  ``compact_gaps`` and ``lazy_listing``; ``plan_diff`` compares two plans; ``status``
  sums coverage; ``config_diff``, ``date_states``, ``durations`` are small helpers.
- ``batches``, ``lifecycle``, ``scheduling`` and ``check_results``: the batches of a pass,
  their phases and transitions, which starts next, and the verdict of a quality check.
- ``events``: what happened in a pass (a breach, a run ended, a date out of retries, a
  request complete) and the rules that find it; ``requests``: when a backfill request is
  complete.

Nothing here performs I/O or reads a clock; time arrives as ``now``.
``tests/test_core_purity.py`` and the import-linter contracts enforce it.
"""
