"""The layers import only downwards, and the public surface is what we say it is."""

import ast
from pathlib import Path

import codemie_provisioner

PKG = Path(codemie_provisioner.__file__).parent

FORBIDDEN = {
    "sandbox": {"engine", "spec", "state", "cli", "api"},
    "spec": {"engine", "state", "cli", "sandbox", "api"},
    "state": {"engine", "spec", "cli", "sandbox", "api"},
    "engine": {"cli", "sandbox"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.level >= 2:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and node.module.startswith("codemie_provisioner."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("codemie_provisioner."):
                    found.add(alias.name.split(".")[1])
    return found


def test_layers_import_only_downwards():
    bad = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (PKG / layer).rglob("*.py"):
            hits = imported_packages(path) & forbidden
            if hits:
                bad.append(f"{path.relative_to(PKG)} imports {sorted(hits)}")
    assert bad == []


def test_public_api_is_pinned():
    assert sorted(codemie_provisioner.__all__) == sorted([
        "DriftItem", "Engine", "Event", "EventSink", "Plan", "PlanStale", "PlannedChange", "ProvisionerError",
        "Recorder", "ResourceError", "RunResult", "Session", "SpecError", "Target", "__version__",
        "azure_target", "load", "sandbox_target"])
    for name in codemie_provisioner.__all__:
        assert hasattr(codemie_provisioner, name)
