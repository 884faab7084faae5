"""Data-quality check engines: a check's SQL, run after a successful run, as a verdict."""
