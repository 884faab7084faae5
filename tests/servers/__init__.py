"""Test servers speaking the platform APIs on 127.0.0.1 (see README.md)."""
