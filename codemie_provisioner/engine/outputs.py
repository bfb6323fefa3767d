"""Outputs: what the components stage reads, computed from the snapshot, never holding a secret.

Why: outputs are expressions over resources (`${ref.kv.out.properties.vaultUri}`), so they are evaluated
against what the snapshot knows (each record's managed fields and kept outputs). An output fed by a generated
secret becomes a reference naming the vault and the secret; `output --show-secrets` resolves it from Key Vault.
"""

from __future__ import annotations

from typing import Any

from ..spec.markers import SecretRef, is_known, iter_markers
from .bodies import observed_from_record
from .resolve import Resolver


def compute_outputs(deployment: Any, resolver: Resolver, records: dict[str, dict]) -> dict[str, Any]:
    spec_outputs = getattr(deployment, "outputs", None) or {}
    for address, rec in records.items():
        if address in resolver.specs and rec.get("status") == "applied":
            resolver.ids[address] = rec["id"]
            resolver.observed[address] = observed_from_record(rec)
    out: dict[str, Any] = {}
    for name, value in spec_outputs.items():
        secret = next((m for m in iter_markers(value) if isinstance(m, SecretRef)), None)
        got = resolver.value(value)
        out[name] = secret_ref(deployment, secret, resolver) if secret else (got if is_known(got) else None)
    return out


def secret_ref(deployment: Any, marker: SecretRef, resolver: Resolver) -> dict:
    """Where a secret output lives: the vault and the secret's name in it (never the value)."""
    spec = deployment.secrets[marker.name]
    vault_id = resolver.id_of(spec.vault) if spec.vault else str(resolver.value(spec.vault_id))
    return {"secretRef": {"secret": marker.name, "vault_id": vault_id, "name": str(resolver.value(spec.secret_name))}}
