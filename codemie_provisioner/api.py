"""The library API: everything the CLI does, as functions and one context manager.

Why: other tooling imports the engine rather than shelling out, and the CLI must stay a thin skin over the
same calls. `Session` ties together a loaded spec, a target (real Azure through DefaultAzureCredential, or the
local sandbox), the state store (a local directory until the deployment's own state backend exists, then the
blob container it names) and an event sink.

    from codemie_provisioner import Session

    with Session("specs/codemie.yaml", sandbox=True, variables={"customer": "acme"}) as s:
        plan = s.plan()
        if plan.has_changes:
            s.apply(plan)
        print(s.outputs())
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import events as ev
from .engine.core import Engine, RunResult
from .engine.gateway import Target, azure_target
from .engine.plan import Plan

DEFAULT_SPEC = "specs/codemie.yaml"
DEFAULT_SANDBOX_DIR = ".codemie-sandbox"
DEFAULT_STATE_DIR = ".codemie/state"


def load(spec_path: str | os.PathLike = DEFAULT_SPEC, variables: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Any:
    """Load and validate a spec (raises SpecError: one line naming file, line and field)."""
    from .engine.kinds import KINDS
    from .spec import load_spec

    return load_spec(Path(spec_path), dict(variables or {}), os.environ if environ is None else environ,
                     kinds=KINDS)


class Session:
    """A deployment bound to a target and a state store. Use as a context manager."""

    def __init__(self, spec: str | os.PathLike | Any = DEFAULT_SPEC, *, sandbox: bool | Any = False,
                 sandbox_dir: str | os.PathLike = DEFAULT_SANDBOX_DIR, state_dir: str | os.PathLike | None = None,
                 subscription_id: str | None = None, variables: Mapping[str, Any] | None = None,
                 environ: Mapping[str, str] | None = None, sink: ev.EventSink = ev.null_sink,
                 parallelism: int = 8, profile: Any = None):
        self.deployment = spec if hasattr(spec, "resources") else load(spec, variables, environ)
        self.sink = sink
        self.parallelism = parallelism
        self._sandbox_arg = sandbox
        self._sandbox_dir = Path(sandbox_dir)
        self._profile = profile
        self._owned_sandbox = None
        self._subscription_id = subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID")
        self._state_dir = Path(state_dir) if state_dir else None
        self.target: Target | None = None
        self.store: Any = None
        self.engine: Engine | None = None

    def __enter__(self) -> Session:
        self.target = self._make_target()
        from .engine.backend import open_store

        self.store = open_store(self.deployment, self.target, self.local_state_dir, self.sink)
        self.engine = Engine(self.deployment, self.target, self.store, sink=self.sink,
                             parallelism=self.parallelism, secrets=self._secrets())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned_sandbox is not None:
            self._owned_sandbox.stop()
            self._owned_sandbox = None

    def phase_addresses(self, phases: list[str]) -> list[str]:
        """Addresses of every resource in the named phases (a SpecError-like error for unknown names)."""
        known = {p.name: p for p in self.deployment.phases}
        unknown = [p for p in phases if p not in known]
        if unknown:
            from .errors import ProvisionerError

            raise ProvisionerError(f"unknown phase {unknown[0]!r} (phases: {', '.join(known)})")
        return [a for p in phases for a in known[p].addresses]

    @property
    def local_state_dir(self) -> Path:
        """Where state lives before the deployment's backend exists (and after it is destroyed)."""
        if self._state_dir:
            return self._state_dir
        return self._sandbox_dir / "state" if self.sandboxed else Path(DEFAULT_STATE_DIR)

    @property
    def sandboxed(self) -> bool:
        return bool(self._sandbox_arg)

    def _make_target(self) -> Target:
        if not self.sandboxed:
            if not self._subscription_id:
                from .errors import ProvisionerError

                raise ProvisionerError("no subscription: set AZURE_SUBSCRIPTION_ID or pass --subscription "
                                       "(or use --sandbox)")
            return azure_target(self._subscription_id)
        from .local_sandbox import attach_or_start
        from .sandbox import Sandbox

        if isinstance(self._sandbox_arg, Sandbox):
            return sandbox_target(self._sandbox_arg)
        sb, owned = attach_or_start(self._sandbox_dir, self._profile)
        self._owned_sandbox = sb if owned else None
        return sandbox_target(sb)

    def _secrets(self) -> Any:
        from .engine.secrets import SecretManager

        return SecretManager(self.deployment, self.target, self.sink)

    # --- commands -----------------------------------------------------------------------------------
    def plan(self, targets: list[str] | None = None, destroy: bool = False) -> Plan:
        return self._engine().plan(targets, destroy=destroy)

    def apply(self, plan: Plan | None = None, targets: list[str] | None = None) -> RunResult:
        result = self._engine().apply(plan, targets)
        from .engine.backend import migrate_if_ready

        self.store = migrate_if_ready(self.deployment, self.target, self.store, self.sink)
        return result

    def destroy(self, targets: list[str] | None = None) -> RunResult:
        from .engine.backend import evacuate_backend

        self.store = evacuate_backend(self.deployment, self.target, self.store, targets, self.local_state_dir,
                                      self.sink)
        self._engine().store = self.store
        return self._engine().destroy(targets)

    def drift(self, targets: list[str] | None = None):
        return self._engine().drift(targets)

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        """The deployment's outputs. Secrets stay references unless `show_secrets`, which reads them from
        Key Vault's data plane (on Azure that needs network access to the vault: run it on the jumpbox)."""
        snap = self.store.latest()
        data = snap if isinstance(snap, dict) or snap is None else snap.to_dict()
        values = dict((data or {}).get("outputs", {}))
        if show_secrets:
            from .engine.vault import read_secret_outputs

            values = read_secret_outputs(values, (data or {}).get("resources", {}), self.target)
        return values

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("use Session as a context manager")
        return self.engine


def sandbox_target(sb: Any) -> Target:
    """A target bound to a running sandbox (its endpoint, CA and time scale)."""
    return Target(subscription_id=sb.subscription_id, credential=sb.credential, base_url=sb.base_url,
                  connection_verify=str(sb.ca_file), tenant_id=sb.tenant_id,
                  time_scale=_time_scale(sb), sandbox=True,
                  extra={"blob_api_version": _sandbox_setting(sb, "blob_api_version")})


def _sandbox_setting(sb: Any, name: str) -> Any:
    profile = getattr(sb, "profile", None)
    return (profile.settings or {}).get(name) if profile is not None else None


def _time_scale(sb: Any) -> float:
    profile = getattr(sb, "profile", None)
    return float(profile.time_scale if profile is not None else getattr(sb, "time_scale", 1.0))
