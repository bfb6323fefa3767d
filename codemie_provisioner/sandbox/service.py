"""`Sandbox`: a local Azure Resource Manager the real SDK clients talk to over HTTPS.

Why: the engine must be exercised end to end (SDK, pipeline policies, LRO pollers, retries) without an Azure
subscription. A `Sandbox` owns one `Cloud` (state, rules, faults) and one HTTPS server on 127.0.0.1, and hands out
what a client needs: base URL, CA file, subscription, a static credential, or a ready-made client.
"""

from __future__ import annotations

import atexit
import inspect
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from . import types
from .core import Cloud
from .profile import Profile
from .server import SandboxServer
from .tls import TlsFiles, ensure_tls

TOKEN_LIFETIME_S = 24 * 3600
_shared_tls: TlsFiles | None = None


class StaticCredential:
    """A token credential that always succeeds (the sandbox only checks that a bearer token is sent)."""

    def __init__(self, token: str = "sandbox-token"):
        self.token = token

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + TOKEN_LIFETIME_S)

    def get_token_info(self, *scopes: str, options: dict | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + TOKEN_LIFETIME_S)

    def close(self) -> None:
        return None

    def __enter__(self) -> StaticCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def shared_tls() -> TlsFiles:
    """One CA per process for sandboxes without a data directory (making a CA costs more than a sandbox)."""
    global _shared_tls
    if _shared_tls is None:
        folder = Path(tempfile.mkdtemp(prefix="codemie-sandbox-tls-"))
        atexit.register(shutil.rmtree, folder, True)
        _shared_tls = ensure_tls(folder)
    return _shared_tls


class Sandbox:
    """Start with `.start()` or `with Sandbox() as sb:`; see DESIGN.md "Sandbox"."""

    def __init__(self, profile: Profile | str | dict = "instant", data_dir: str | Path | None = None,
                 port: int = 0):
        types.load_all()
        self.profile = Profile.resolve(profile)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.port = port
        self.cloud = Cloud(self.profile, self.data_dir)
        self.credential = StaticCredential()
        self.tls = ensure_tls(self.data_dir / "tls") if self.data_dir else shared_tls()
        self._server: SandboxServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        if self._server is None:
            self._server = SandboxServer(self.cloud, self.tls, self.port)
            self.cloud.base_url = f"https://127.0.0.1:{self._server.port}"
            self._server.start()
            self._write_endpoint()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            if self.data_dir is not None:
                (self.data_dir / "endpoint.json").unlink(missing_ok=True)
        self.cloud.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_endpoint(self) -> None:
        """Tell other processes (CLI, engine runs) where this sandbox listens."""
        if self.data_dir is not None:
            (self.data_dir / "endpoint.json").write_text(json.dumps(self.info() | {"pid": os.getpid()}))

    # ------------------------------------------------------------ what clients need

    @property
    def base_url(self) -> str:
        return self.cloud.base_url

    @property
    def ca_file(self) -> str:
        return str(self.tls.ca_file)

    @property
    def subscription_id(self) -> str:
        return self.cloud.subscription_id

    @property
    def tenant_id(self) -> str:
        return self.cloud.tenant_id

    def info(self) -> dict:
        return {"base_url": self.base_url, "ca_file": self.ca_file, "subscription_id": self.subscription_id,
                "tenant_id": self.tenant_id}

    def client_kwargs(self) -> dict:
        """Keyword arguments that point any azure-core client at the sandbox."""
        return {"base_url": self.base_url, "credential_scopes": [self.base_url + "/.default"],
                "connection_verify": self.ca_file}

    def client(self, client_class: type, **kwargs: Any) -> Any:
        """An azure-mgmt client bound to this sandbox (extra kwargs go to the client)."""
        opts = {**self.client_kwargs(), **kwargs}
        if "subscription_id" in inspect.signature(client_class.__init__).parameters:
            return client_class(self.credential, self.subscription_id, **opts)
        return client_class(self.credential, **opts)

    # ------------------------------------------------------------ driving the cloud

    def set_profile(self, profile: Profile | str | dict) -> None:
        """Swap the profile (a Profile, a name, a file path, or a dict of fields merged into the current one)."""
        new = self.profile.updated(profile) if isinstance(profile, dict) and "base" not in profile \
            else Profile.resolve(profile)
        self.profile = new
        self.cloud.set_profile(new)

    def tamper(self, resource_id: str, merge_patch: dict) -> dict:
        return self.cloud.tamper(resource_id, merge_patch)

    def remove(self, resource_id: str) -> None:
        self.cloud.remove(resource_id)

    def requests(self) -> list[dict]:
        return self.cloud.log.snapshot()

    def clear_requests(self) -> None:
        self.cloud.log.clear()

    def writes(self) -> list[dict]:
        """The logged requests that change something (PUT, PATCH, DELETE, POST)."""
        return [r for r in self.requests() if r["write"]]

    def advance(self, seconds: float) -> None:
        self.cloud.advance(seconds)

    def reset(self) -> None:
        self.cloud.reset()

    def get(self, resource_id: str) -> dict | None:
        """The stored body of a resource (None if absent), read directly, not through the API."""
        rec = self.cloud.store.get(resource_id)
        return rec["body"] if rec and rec["visible"] else None
