"""codemie-provisioner: deploys the Azure infrastructure of AI/Run CodeMie through the Azure SDK.

Why this module is small: it is the public surface (pinned by tests/test_public_api.py). Everything the CLI does
is reachable from here; internal modules may move.
"""

from ._version import __version__
from .api import Session, load, sandbox_target
from .engine.core import DriftItem, Engine, PlanStale, ResourceError, RunResult
from .engine.gateway import Target, azure_target
from .engine.plan import Plan, PlannedChange
from .errors import ProvisionerError, SpecError
from .events import Event, EventSink, Recorder

__all__ = [
    "DriftItem",
    "Engine",
    "Event",
    "EventSink",
    "Plan",
    "PlanStale",
    "PlannedChange",
    "ProvisionerError",
    "Recorder",
    "ResourceError",
    "RunResult",
    "Session",
    "SpecError",
    "Target",
    "__version__",
    "azure_target",
    "load",
    "sandbox_target",
]
