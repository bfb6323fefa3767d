"""Fixtures for the reference deployment: the whole of `specs/codemie.yaml` applied to a sandbox.

Why: the design tests only read what a full apply left behind, so one apply per module serves them all and
the suite stays fast; the lifecycle tests use `apply_reference` on sandboxes of their own.

  apply_reference(sandbox, state_dir, sink=None, **variables) -> Deployed   (applies all three phases)
  deployed   module-scoped: one instant sandbox holding the applied reference deployment
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from codemie_provisioner import Recorder, RunResult, Session
from codemie_provisioner.sandbox import Sandbox

SPEC = Path(__file__).resolve().parents[2] / "specs" / "codemie.yaml"


@dataclass
class Deployed:
    """What an apply of the reference spec left: the sandbox, the run, the state document and the events."""

    sandbox: Sandbox
    result: RunResult
    state: dict
    outputs: dict
    events: Recorder

    def id(self, address: str) -> str:
        return self.state["resources"][address]["id"]

    def addresses(self, kind: str) -> list[str]:
        return sorted(a for a, r in self.state["resources"].items() if r["kind"] == kind)

    def client(self, client_class: type):
        return self.sandbox.client(client_class)


def apply_reference(sandbox: Sandbox, state_dir: Path, sink: Recorder | None = None, **variables) -> Deployed:
    """Apply the reference spec (every phase its variables enable) and return what it left."""
    events = sink or Recorder()
    with Session(SPEC, sandbox=sandbox, state_dir=state_dir, sink=events, variables=variables) as s:
        result = s.apply()
        state = s.store.latest().to_dict()
        outputs = s.outputs()
    return Deployed(sandbox, result, state, outputs, events)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Deployed:
    with Sandbox("instant") as sandbox:
        done = apply_reference(sandbox, tmp_path_factory.mktemp("state"))
        assert done.result.ok, (done.result.failed, done.result.skipped)
        yield done
