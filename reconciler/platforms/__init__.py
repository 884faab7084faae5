"""Platform adapters behind one protocol; ``local`` runs subprocesses under a supervisor."""
