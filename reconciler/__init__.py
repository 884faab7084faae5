"""Backfill reconciler: keep data pipelines' date coverage complete, declaratively."""

__version__ = "0.1.0"
