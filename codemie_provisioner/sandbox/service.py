"""`Sandbox`: a local Azure Resource Manager the real SDK clients talk to over HTTPS.

Why: the engine must be exercised end to end (SDK, pipeline policies, LRO pollers, retries) without an Azure
subscription. A `Sandbox` owns one `Cloud` (state, rules, faults) and one HTTPS server on 127.0.0.1, and hands out
what a client needs: base URL, CA file, subscription, a static credential, or a ready-made client.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import types
from .clients import ClientFactory, StaticCredential
from .core import Cloud
from .profile import Profile
from .remote import ENDPOINT_FILE
from .server import SandboxServer
from .tls import TlsFiles, ensure_tls

_shared_tls: TlsFiles | None = None


def shared_tls() -> TlsFiles:
    """One CA per process for sandboxes without a data directory (making a CA costs more than a sandbox)."""
    global _shared_tls
    if _shared_tls is None:
        folder = Path(tempfile.mkdtemp(prefix="codemie-sandbox-tls-"))
        atexit.register(shutil.rmtree, folder, True)
        _shared_tls = ensure_tls(folder)
    return _shared_tls


class Sandbox(ClientFactory):
    """Start with `.start()` or `with Sandbox() as sb:`; see DESIGN.md "Sandbox"."""

    def __init__(self, profile: Profile | str | dict = "instant", data_dir: str | Path | None = None,
                 port: int = 0):
        types.load_all()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.port = port
        self.cloud = Cloud(Profile.resolve(profile), self.data_dir)
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
                (self.data_dir / ENDPOINT_FILE).unlink(missing_ok=True)
        self.cloud.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_endpoint(self) -> None:
        """Tell other processes (CLI, engine runs) where this sandbox listens."""
        if self.data_dir is not None:
            (self.data_dir / ENDPOINT_FILE).write_text(json.dumps(self.info() | {"pid": os.getpid()}))

    # ------------------------------------------------------------ what clients need

    @property
    def profile(self) -> Profile:
        """The profile in force (it may have been changed over the admin API)."""
        return self.cloud.profile

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

    # ------------------------------------------------------------ driving the cloud

    def set_profile(self, profile: Profile | str | dict) -> None:
        """Swap the profile (a Profile, a name, a file path, or a dict of fields merged into the current one)."""
        new = self.profile.updated(profile) if isinstance(profile, dict) and "base" not in profile \
            else Profile.resolve(profile)
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
