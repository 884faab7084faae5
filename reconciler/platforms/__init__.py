"""Platform adapters behind one protocol (``base``): start a run, poll it, cancel it.

``local`` runs subprocesses under a supervisor (``local_supervisor``, ``runs_dir``,
``local_results``); ``remote`` is the shared HTTP adapter of ``databricks``, ``dbt``,
``snowflake`` and ``http_hook``, with one retry policy (``http_client``); ``registry``
builds the platforms a pass uses.
"""
