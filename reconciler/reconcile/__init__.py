"""The application layer: the use cases the commands call.

``apply_pass`` runs one reconcile pass (config sync, adoption, plan, start and follow
runs, record outcomes and events); ``planning`` loads config and state and plans the
fleet for ``plan``; ``saved_plans`` writes and verifies ``plan --out`` files;
and ``reporting`` gathers what ``report`` and ``status --calendar`` show.
"""
