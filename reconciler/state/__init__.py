"""The state store: one interface, two back ends, plain data in and out.

- ``store``: ``Store`` (reads, writes, the lock, adoption, bulk operations) and
  ``open_store``; ``sessions``: the read and write sessions, a method per operation;
  ``duckdb_store`` and ``postgres_store`` the two back ends, ``dialects`` their SQL
  differences, ``connection`` and ``postgres`` their connections, ``location`` where a
  ``--state`` points, ``schema`` the tables and migrations.
- Per-table modules behind the sessions: pipelines and their config (``config_writes``),
  runs (``run_writes``, ``run_reads``, ``run_log_reads``, ``failed_reads``), what the
  planner reads (``observe_reads``), requests (``adhoc_requests``), SLA
  breaches (``sla_breaches``), checks (``quality_rows``), notifications
  (``notification_rows``, ``event_reads``), local runs (``local_runs``), the lock and
  claims (``locking``, ``claims``), the fingerprint (``summary``); ``records`` and
  ``coverage_rows`` are the rows read for ``history`` and the coverage ranges.
- Bulk operations: ``importing`` (with ``import_checks`` and ``import_writes``), ``export``,
  ``migrate_copy``.
- ``pg_outage`` rides out a PostgreSQL restart; ``file_sharing`` and ``private_files``
  keep a DuckDB file to one writer and to its owner.
"""
