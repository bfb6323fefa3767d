"""Generated secrets: made on the deployer's machine, stored only in Key Vault, referenced everywhere else.

Why: Terraform keeps generated passwords and keys in plaintext state (peer-lessons §2.32). Here a secret
declared in the spec (`secrets: {pg_admin: {generate: password, vault: ${ref.kv}, name: postgres-admin-password}}`)
is generated at the moment a resource that needs it is *created*, written to the vault through the
management plane (which works while the vault's public network access is off, unlike the data plane), and
handed to that one request body. State, plans, events and logs carry only `{"secretRef": ...}`; fields fed by a
secret are write-only, so they are never diffed and never re-sent on updates. For an SSH key pair only the
private half is stored; the public half goes into the VM body, which is write-only there too (the VM's
osProfile cannot change after create, so it is never re-sent).
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
        """The secret's value (or, for an ssh_key, `.public_key`), generating and storing it once per run."""
        name = marker.name
        with self._mu:
            if name not in self._values:
                self._values[name] = self._make_and_store(name)
            made = self._values[name]
        field = getattr(marker, "field", None)
        return made["public_key"] if field == "public_key" else made["value"]

    def _make_and_store(self, name: str) -> dict[str, str]:
        spec = self.specs.get(name)
        if spec is None:
            raise KeyError(f"secret '{name}' is not declared under secrets:")
        if spec.generate == "ssh_key":
            private, public = generate_ssh_key()
            made = {"value": private, "public_key": public}
        else:
            made = {"value": generate_password(spec.length or 32), "public_key": ""}
        self._store(spec, made["value"])
        self.sink(ev.Message("info", f"generated secret '{name}' and stored it in Key Vault"))
        return made

    def _store(self, spec: Any, value: str) -> None:
        resolver = Resolver(self.resources, self.target.subscription_id, tenant_id=self.target.tenant_id)
        vault_id = resolver.id_of(spec.vault) if spec.vault else str(resolver.value(spec.vault_id))
        secret_id = f"{vault_id}/secrets/{resolver.value(spec.secret_name)}"
        Gateway(self.target).put(KINDS["key_vault_secret"], secret_id, {"properties": {"value": value}},
                                 exists=False)
