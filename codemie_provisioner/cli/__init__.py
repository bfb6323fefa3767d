"""The command line: a thin skin over `codemie_provisioner.api` (see cli/main.py)."""
