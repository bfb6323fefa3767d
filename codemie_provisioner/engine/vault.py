"""Reading secret outputs back from Key Vault, only when a user asks for them explicitly.

Why: the components stage needs the PostgreSQL password in deployment_outputs.env, but state never holds it.
`output --show-secrets` resolves each `secretRef` through Key Vault's data plane, with the caller's own
credential, so reading a secret is an audited vault access rather than a file read. In the sandbox the vault
lives under a loopback path, so the challenge's resource check is relaxed there only.
"""

from __future__ import annotations

from typing import Any

from .gateway import Target


def _vault_uri(vault_id: str, resources: dict[str, dict]) -> str | None:
    for rec in resources.values():
        if rec.get("id", "").lower() == vault_id.lower():
            return (rec.get("outputs") or {}).get("properties.vaultUri")
    return None


def read_secret(target: Target, vault_uri: str, name: str) -> str:
    from azure.keyvault.secrets import SecretClient

    kwargs: dict[str, Any] = {}
    if target.connection_verify is not None:
        kwargs["connection_verify"] = target.connection_verify
    if target.sandbox:
        kwargs["verify_challenge_resource"] = False
    client = SecretClient(vault_uri, credential=target.credential, **kwargs)
    return client.get_secret(name).value


def read_secret_outputs(values: dict[str, Any], resources: dict[str, dict], target: Target) -> dict[str, Any]:
    out = dict(values)
    for key, value in values.items():
        ref = value.get("secretRef") if isinstance(value, dict) else None
        if not isinstance(ref, dict):
            continue
        uri = _vault_uri(ref["vault_id"], resources)
        if uri is None:
            raise LookupError(f"{key}: the vault {ref['vault_id']} is not in state")
        out[key] = read_secret(target, uri, ref["name"])
    return out
