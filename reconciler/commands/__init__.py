"""Click commands that live outside ``cli.py``; ``cli.main`` adds them with ``add_command``."""
