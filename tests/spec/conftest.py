"""Shared fixtures for the spec tests: the kinds table and the reference good spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemie_provisioner.engine.kinds import KINDS

HERE = Path(__file__).parent


@pytest.fixture
def kinds():
    return KINDS


@pytest.fixture
def full_spec() -> Path:
    return HERE / "good" / "full.yaml"
