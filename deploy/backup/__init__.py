"""Backups of the log and of the key store: `python -m deploy.backup --help`."""
