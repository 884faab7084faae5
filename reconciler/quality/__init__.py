"""Data-quality checks: a check's SQL, run after a successful run, as a verdict.

``checking`` runs the checks of ended runs in worker threads while the pass goes on;
``runner`` runs one run's checks on their engines (``duckdb_engine`` in a sandbox,
``snowflake_engine``); ``results`` turns a query's answer into a verdict
(``reconciler.core.check_results``).
"""
