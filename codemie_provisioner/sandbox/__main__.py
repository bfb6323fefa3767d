"""`python -m codemie_provisioner.sandbox serve|tamper|remove|requests`."""

from .cli import sandbox

if __name__ == "__main__":
    sandbox()
