"""Fixtures shared by every test that talks to the sandbox through the real Azure SDK clients.

Why: each test gets its own cloud (fresh in-memory sandbox, `instant` profile), so tests never see each other's
resources and run in any order or in parallel workers.

  sandbox          a started Sandbox, instant profile, in memory; stopped after the test
  sandbox_factory  sandbox_factory(profile="instant", data_dir=None, **profile_fields) -> started Sandbox
  mgmt             mgmt(ClientClass, **kwargs) -> an azure-mgmt client bound to `sandbox`
"""

from __future__ import annotations

import pytest

from codemie_provisioner.sandbox import Profile, Sandbox


@pytest.fixture
def sandbox_factory():
    started: list[Sandbox] = []

    def make(profile: Profile | str | dict = "instant", data_dir=None, **fields) -> Sandbox:
        prof = Profile.resolve(profile)
        if fields:
            prof = prof.updated(fields)
        box = Sandbox(prof, data_dir=data_dir).start()
        started.append(box)
        return box

    yield make
    for box in reversed(started):
        box.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> Sandbox:
    return sandbox_factory()


@pytest.fixture
def mgmt(sandbox):
    def make(client_class: type, **kwargs):
        return sandbox.client(client_class, **kwargs)

    return make
