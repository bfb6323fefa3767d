"""Generated secrets: made on the deployer's machine, stored only in Key Vault, referenced everywhere else.

Why: Terraform keeps generated passwords and keys in plaintext state (peer-lessons §2.32). Here a secret
declared in the spec (`secrets: {pg_admin: {generate: password, vault: ${ref.kv}, name: postgres-admin-password}}`)
is generated at the moment a resource that needs it is *created*, written to the vault through the
management plane (which works while the vault's public network access is off, unlike the data plane), and
handed to that one request body. State, plans, events and logs carry only `{"secretRef": ...}`; fields fed by a
secret are write-only, so they are never diffed and never re-sent on updates. An SSH key pair keeps its public
half in state (it is not secret and the VM needs it unchanged on every run).
"""

from __future__ import annotations

import secrets as pysecrets
import string
import threading
from typing import Any

from .. import events as ev
from .gateway import Gateway, Target
from .kinds import KINDS
from .resolve import Resolver

ALPHABET = string.ascii_letters + string.digits + "-_.~"


def generate_password(length: int = 32) -> str:
    """A password meeting Azure's complexity rules (upper, lower, digit, symbol)."""
    while True:
        value = "".join(pysecrets.choice(ALPHABET) for _ in range(length))
        classes = [any(c.islower() for c in value), any(c.isupper() for c in value),
                   any(c.isdigit() for c in value), any(c in "-_.~" for c in value)]
        if all(classes):
            return value


def generate_ssh_key() -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + " codemie-provisioner"


class SecretManager:
    """Resolves `${secret.NAME}` markers at create time; remembers values only for the current run."""

    def __init__(self, deployment: Any, target: Target, sink: ev.EventSink = ev.null_sink):
        self.specs = dict(getattr(deployment, "secrets", None) or {})
        self.resources = {r.address: r for r in deployment.resources}
        self.target = target
        self.sink = sink
        self._values: dict[str, str] = {}
        self._mu = threading.Lock()

    def value(self, marker: Any) -> str:
        name = marker.name
        with self._mu:
            if name not in self._values:
                self._values[name] = self._make_and_store(name)
            return self._values[name]

    def known_values(self) -> list[str]:
        """Every value generated in this run (for leak checks in tests)."""
        return list(self._values.values())

    def _make_and_store(self, name: str) -> str:
        spec = self.specs.get(name)
        if spec is None:
            raise KeyError(f"secret '{name}' is not declared under secrets:")
        generate = getattr(spec, "generate", "password")
        value = generate_ssh_key()[0] if generate == "ssh_key" else \
            generate_password(getattr(spec, "length", None) or 32)
        self._store(spec, value)
        self.sink(ev.Message("info", f"generated secret '{name}' and stored it in Key Vault"))
        return value

    def _store(self, spec: Any, value: str) -> None:
        vault = getattr(spec, "vault", None)
        address = getattr(vault, "address", vault)
        vault_id = Resolver(self.resources, self.target.subscription_id).id_of(address)
        secret_id = f"{vault_id}/secrets/{spec.name}"
        Gateway(self.target).put(KINDS["key_vault_secret"], secret_id, {"properties": {"value": value}},
                                 exists=False)
