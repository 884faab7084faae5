"""Pure renderers: plans, status and problems to text, markdown, JSON and annotations.

``plan_text``, ``plan_markdown``, ``plan_json`` (with ``plan_schema`` and
``plan_document``) render a plan; ``plan_compare`` a plan against its base;
``plan_view`` and ``dates`` group dates for reading; ``calendar_text``,
``calendar_grid``, ``coverage_strip`` and ``report_html`` (over ``report_data``) draw
coverage;
``annotations`` writes GitHub workflow annotations. Nothing here does I/O.
"""
