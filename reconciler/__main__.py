"""``python -m reconciler`` entry point."""

from reconciler.cli import main

main()
