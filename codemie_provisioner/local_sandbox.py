"""Finding the sandbox for `--sandbox`: attach to a running `sandbox serve`, or start one in this process.

Why: the sandbox keeps its cloud on disk so that `apply` and a later `drift` see the same resources. Two
processes must never run two sandboxes over one data directory, so a running server (named in its
`endpoint.json`, with its pid) is attached to; otherwise an embedded one starts and stops with the command.
The embedded default is the realistic duration profile at 1/100 of real time: a newcomer sees the live view
of a deployment whose long operations (AKS, Bastion, PostgreSQL) take seconds instead of half an hour.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DEFAULT_PROFILE: dict[str, Any] = {"base": "realistic", "time_scale": 0.01}


@dataclass
class AttachedSandbox:
    """A sandbox served by another process (what `sandbox serve` writes to endpoint.json)."""

    base_url: str
    ca_file: str
    subscription_id: str
    tenant_id: str
    time_scale: float
    credential: Any


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _listening(base_url: str) -> bool:
    url = urlparse(base_url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        return False                       # never reach anything but loopback
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=1.0):
            return True
    except OSError:
        return False


def _profile_time_scale(base_url: str, ca_file: str) -> float:
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(f"{base_url}/sandbox/profile", context=context, timeout=5) as resp:
        return float(json.loads(resp.read()).get("time_scale", 0.0))


def attach(data_dir: Path) -> AttachedSandbox | None:
    """The sandbox already serving `data_dir`, if there is one."""
    from .sandbox import StaticCredential

    endpoint = Path(data_dir) / "endpoint.json"
    if not endpoint.exists():
        return None
    info = json.loads(endpoint.read_text())
    if not _alive(int(info.get("pid", -1))) or not _listening(info["base_url"]):
        return None
    return AttachedSandbox(info["base_url"], info["ca_file"], info["subscription_id"], info["tenant_id"],
                           _profile_time_scale(info["base_url"], info["ca_file"]), StaticCredential())


def attach_or_start(data_dir: Path, profile: Any = None) -> tuple[Any, bool]:
    """(sandbox, started_here)."""
    running = attach(data_dir)
    if running is not None:
        return running, False
    from .sandbox import Sandbox

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return Sandbox(profile or DEFAULT_PROFILE, data_dir).start(), True
