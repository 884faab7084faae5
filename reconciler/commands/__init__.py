"""The click commands, one module per area (plan, apply and run, state, inspection,
report, config), ``backfill_checks`` (what ``backfill`` refuses), and ``options``: what
every command shares (``--config-dir``, ``--state``, ``--now``, error output).
``cli.main`` adds the commands."""
