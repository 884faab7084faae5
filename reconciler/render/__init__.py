"""Pure renderers: plans, status and problems to text, markdown, JSON and annotations.

``plan_text``, ``plan_markdown``, ``plan_json`` (by date ranges, with ``plan_ranges``,
``plan_schema`` and ``plan_document``) and ``plan_json_v2`` (expanded, written through a
``write`` callable given by the command; ``plan_expand`` turns one into the other)
render a plan; ``plan_compare`` a plan against its base;
``plan_view`` and ``dates`` group dates for reading; ``calendar_text``,
``calendar_grid``, ``coverage_strip`` and ``report_html`` (over ``report_data``) draw
coverage;
``annotations`` writes GitHub workflow annotations. Nothing here does I/O.
"""
