"""Pure planning core: calendar, coverage, retry policy, SLA and the planner.

Nothing in this package performs I/O or reads a clock; time arrives as ``now``.
``tests/test_core_purity.py`` enforces that no I/O library is imported here.
"""
