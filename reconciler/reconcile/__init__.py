"""The application layer: the use cases the commands call.

- ``apply_pass``: one reconcile pass, as steps (load, lock, sync the config, adopt what
  is in flight, plan, prepare, execute, conclude); ``executor`` starts and follows its
  batches; ``pass_ledger`` commits each of the executor's changes with what they mean;
  ``pass_events`` finds the pass's events and records them (check and breach rows, and
  through ``notify`` their notifications) in the transaction of what caused them;
  ``pass_report`` holds what the pass did and the state after it (the summary).
- ``planning``: config and state loaded and the fleet planned, for ``plan``.
- ``saved_plans``: ``plan --out`` files written, and verified by ``apply --plan``.
- ``reporting``: what ``report`` and ``status --calendar`` show, read only.
"""
