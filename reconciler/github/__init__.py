"""GitHub glue for the workflows: the sticky pull-request comment."""
