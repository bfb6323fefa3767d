"""A sandbox running in another process, found through its data directory and driven over `/sandbox/...`.

Why: `sandbox serve` runs in one terminal while engine runs, tests or `sandbox tamper` come from others; they
must reach the same cloud rather than start a second server on the same files. A running sandbox writes
`endpoint.json` into its data directory; `attach()` reads it and checks the server answers.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .clients import ClientFactory, StaticCredential
from .profile import Profile

ENDPOINT_FILE = "endpoint.json"


class RemoteSandbox(ClientFactory):
    """Same client-facing surface as `Sandbox` (base_url, ca_file, subscription_id, tenant_id, credential,
    client(), tamper(), remove(), requests(), set_profile(), advance(), reset()), over the admin API."""

    def __init__(self, info: dict):
        self.base_url, self.ca_file = info["base_url"], info["ca_file"]
        self.subscription_id, self.tenant_id = info["subscription_id"], info["tenant_id"]
        self.credential = StaticCredential()
        self._tls = ssl.create_default_context(cafile=self.ca_file)

    def admin(self, method: str, what: str, body: dict | None = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base_url}/sandbox/{what}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self._tls, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = json.loads(err.read() or b"{}").get("error", {})
            raise RuntimeError(f"sandbox admin {method} {what}: {err.code} {detail.get('message', '')}") from None

    def tamper(self, resource_id: str, merge_patch: dict) -> dict:
        return self.admin("POST", "tamper", {"id": resource_id, "patch": merge_patch})

    def remove(self, resource_id: str) -> None:
        self.admin("POST", "remove", {"id": resource_id})

    def requests(self) -> list[dict]:
        return self.admin("GET", "requests")["value"]

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    @property
    def profile(self) -> Profile:
        """The profile the remote sandbox runs with."""
        return Profile.from_dict(self.admin("GET", "profile"))

    def set_profile(self, changes: dict) -> Profile:
        """Merge fields into the remote profile (`base` replaces it); returns the profile now in force."""
        return Profile.from_dict(self.admin("POST", "profile", changes))

    def advance(self, seconds: float) -> None:
        self.admin("POST", "clock", {"advance": seconds})

    def reset(self) -> None:
        self.admin("POST", "reset", {})

    def stop(self) -> None:
        """Nothing to stop: the sandbox belongs to another process."""
        return None


def attach(data_dir: str | Path, timeout: float = 2.0) -> RemoteSandbox | None:
    """The sandbox serving `data_dir`, or None when none answers."""
    path = Path(data_dir) / ENDPOINT_FILE
    try:
        remote = RemoteSandbox(json.loads(path.read_text()))
        remote.admin("GET", "info", timeout=timeout)
    except (OSError, ValueError, KeyError, RuntimeError, ssl.SSLError):
        return None
    return remote
