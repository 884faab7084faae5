"""Bounds of every number and date a pipeline file (or ``--now``) may hold.

Chosen so that nothing valid can overflow a date, a timedelta or a 32-bit state column
anywhere in a pass: the latest date plus the largest period, offset or retry delay is
still far from ``date.max``. The JSON Schema states each bound. No imports beyond the
standard library: ``--now`` is checked against them before anything heavy loads.
"""

from __future__ import annotations

from datetime import date

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
MAX_EVERY = 1000  # periods between dates (days, weeks or months)
MAX_OFFSET_DAYS = 366
MAX_BATCH_DATES = 10_000
MAX_RETRIES = 100
MAX_PRIORITY = 1_000_000  # either sign
MAX_ACTIVE_RUNS = 1000
MAX_DURATION_SECONDS = 30 * 86400  # timeouts
MAX_RETRY_DELAY_SECONDS = 7 * 86400
MAX_PLATFORM_ID = 2**53 - 1  # exact in JSON
