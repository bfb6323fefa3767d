"""Finding the sandbox for `--sandbox`: attach to a running `sandbox serve`, or start one in this process.

Why: the sandbox keeps its cloud on disk so that `apply` and a later `drift` see the same resources. Two
processes must never run two sandboxes over one data directory, so a running server (found by
`sandbox.attach`) is used; otherwise an embedded one starts and stops with the command, on the port it used
last time when that port is free, because the cloud's stored URLs (a vault's `vaultUri`) name that port.
The embedded default is the realistic duration profile at 1/100 of real time: a newcomer sees the live view
of a deployment whose long operations (AKS, Bastion, PostgreSQL) take seconds instead of half an hour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_PROFILE: dict[str, Any] = {"base": "realistic", "time_scale": 0.01}
PORT_FILE = "port"


def attach_or_start(data_dir: Path, profile: Any = None) -> tuple[Any, bool]:
    """(sandbox, started_here)."""
    from .sandbox import Sandbox, attach

    data_dir = Path(data_dir)
    running = attach(data_dir)
    if running is not None:
        return running, False
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file = data_dir / PORT_FILE
    last = int(port_file.read_text()) if port_file.exists() else 0
    try:
        sb = Sandbox(profile or DEFAULT_PROFILE, data_dir, port=last).start()
    except OSError:                        # the old port is taken: any port will do
        sb = Sandbox(profile or DEFAULT_PROFILE, data_dir).start()
    port_file.write_text(str(sb.base_url.rsplit(":", 1)[-1]))
    return sb, True
