"""What a running reconciler shows its monitoring: metrics, JSON logs, live progress."""
