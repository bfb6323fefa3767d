"""The CLI as a user runs it: exit codes, one-line errors, JSON lines, plan files, outputs, state commands.

Each command runs in a subprocess against a sandbox started by the test with a data directory, so the CLI
attaches to it (as it would to `sandbox serve`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NETWORK = REPO / "tests" / "engine" / "specs" / "network.yaml"


@pytest.fixture
def run(sandbox_factory, tmp_path):
    sb = sandbox_factory(data_dir=tmp_path / "cloud")

    def go(*args, spec=NETWORK, sandbox=True, input_text=None):
        cmd = [sys.executable, "-m", "codemie_provisioner", *args]
        if spec is not None:
            cmd += ["--spec", str(spec)]
        if sandbox:
            cmd += ["--sandbox", "--sandbox-dir", str(tmp_path / "cloud"), "--state-dir", str(tmp_path / "state")]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, input=input_text,
                              timeout=120)

    go.sandbox = sb
    return go


def test_validate_reports_one_line_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(NETWORK.read_text().replace("10.20.0.0/16]", "10.20.0.0/33]"))
    proc = subprocess.run([sys.executable, "-m", "codemie_provisioner", "validate", "--spec", str(bad)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:") and "10.20.0.0/33" in lines[0]


def test_plan_detailed_exitcode_then_apply_then_no_changes(run):
    first = run("plan", "--detailed-exitcode", "--plain")
    assert first.returncode == 2, first.stderr
    assert "Plan: 11 to create" in first.stdout
    assert run("apply", "--yes", "--plain").returncode == 0
    again = run("plan", "--detailed-exitcode", "--plain")
    assert again.returncode == 0 and "Plan: 0 to create, 0 to update" in again.stdout


def test_apply_without_yes_asks_and_cancels(run):
    proc = run("apply", "--plain", input_text="n\n")
    assert proc.returncode == 1 and "Cancelled." in proc.stdout
    assert run.sandbox.writes() == []


def test_saved_plan_applies_once_and_is_refused_after(run, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--out", str(plan_file), "--plain").returncode == 0
    assert run("apply", str(plan_file), "--plain").returncode == 0
    stale = run("apply", str(plan_file), "--plain")
    assert stale.returncode == 1 and "run plan again" in stale.stderr


def test_json_events_and_drift_exit_codes(run):
    applied = run("apply", "--yes", "--json")
    assert applied.returncode == 0
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    assert events[0]["event"] == "RunStarted" and events[-1]["event"] == "RunFinished" and events[-1]["ok"]
    assert run("drift").returncode == 0
    state = json.loads(run("state", "show", "vnet").stdout)
    run.sandbox.tamper(state["id"], {"tags": {"purpose": "changed-in-portal"}})
    drifted = run("drift", "check", "--json")
    assert drifted.returncode == 2
    lines = [json.loads(line) for line in drifted.stdout.splitlines()]
    assert [e["event"] for e in lines[:-1]] == ["DriftFound"]
    report = lines[-1]["drift"]
    assert [(d["address"], [f["path"] for f in d["fields"]]) for d in report] == [("vnet", ["tags.purpose"])]


def test_state_commands(run):
    assert run("apply", "--yes", "--plain").returncode == 0
    listed = run("state", "list").stdout.splitlines()
    assert len(listed) == 11 and any(line.startswith("vnet\tvirtual_network") for line in listed)
    history = run("state", "history").stdout.splitlines()
    last = int(history[-1].split("\t")[0])
    diff = json.loads(run("state", "diff", "1", str(last)).stdout)
    assert "vnet" in diff["resources"]["added"] or "vnet" in diff["resources"]["changed"]
    rolled = run("state", "rollback", "1")
    assert rolled.returncode == 0 and f"serial {last + 1}" in rolled.stdout
    assert "the state was not locked" in run("state", "unlock").stdout


def test_graph_exports(run):
    dot = run("graph", "--format", "dot", sandbox=False)
    assert dot.returncode == 0 and dot.stdout.startswith("digraph") and '"vnet" -> "subnets[0]"' in dot.stdout
    mermaid = run("graph", "--format", "mermaid", sandbox=False)
    assert mermaid.stdout.startswith("flowchart")


def test_unknown_phase_is_a_clear_error(run):
    proc = run("plan", "--phase", "nope", "--plain")
    assert proc.returncode == 1 and "unknown phase 'nope'" in proc.stderr


def test_a_broken_spec_makes_no_azure_call(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(NETWORK.read_text().replace("kind: subnet", "kind: subnett"))
    run.sandbox.clear_requests()
    for command in (("plan", "--plain"), ("apply", "--yes", "--plain"), ("drift",)):
        proc = run(*command, spec=bad)
        assert proc.returncode == 1 and "subnett" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert run.sandbox.requests() == []


def test_var_file_then_var(run, tmp_path):
    values = tmp_path / "vars.yaml"
    values.write_text("prefix: fromfile\nlocation: northeurope\n")
    planned = run("plan", "--json", "--var-file", str(values), "--var", "prefix=fromflag")
    plan = json.loads(planned.stdout.splitlines()[-1])
    rg = next(c for c in plan["changes"] if c["address"] == "rg")
    assert rg["id"].endswith("/resourceGroups/fromflag-rg")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- not\n- a mapping\n")
    failed = run("plan", "--var-file", str(bad))
    assert failed.returncode == 1 and "bad.yaml" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_embedded_sandbox_profile_persists_between_commands(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "codemie_provisioner"]
    where = ["--spec", str(NETWORK), "--sandbox", "--sandbox-dir", str(tmp_path / "cloud"),
             "--state-dir", str(tmp_path / "state")]
    applied = subprocess.run([*base, "apply", *where, "--sandbox-profile", "instant", "--yes", "--plain"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert applied.returncode == 0, applied.stderr
    assert not (tmp_path / "cloud" / "endpoint.json").exists()       # the embedded sandbox stopped with it
    replanned = subprocess.run([*base, "plan", *where, "--detailed-exitcode", "--plain"],
                               capture_output=True, text=True, env=env, timeout=120)
    assert replanned.returncode == 0 and "Plan: 0 to create" in replanned.stdout
    bad = subprocess.run([*base, "plan", *where, "--sandbox-profile", "nope"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode == 1 and "nope" in bad.stderr


def test_usage_errors_exit_1_not_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "codemie_provisioner", "plan", "--no-such-option"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "No such option" in proc.stderr
