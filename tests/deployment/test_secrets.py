"""Generated secrets live in Key Vault and nowhere else: not in state, plans, events, CLI output or logs.

Why: the tools this project replaces keep generated passwords and private keys in plaintext state, and every
copy of the state (backups, CI artefacts, a laptop) becomes a copy of the database password. So after a full
apply the real values are read back from Key Vault's data plane and searched for, in every form a leak would
take (raw, JSON-escaped, one line of a PEM block), in everything the tool writes or prints: each state
snapshot, the plan, every event, the CLI's JSON and plain output of apply/plan/drift/output, the env file and
the sandbox's request log. The resources themselves must use those same values: PostgreSQL never answers its
password back, and the jumpbox trusts exactly the public half of the stored private key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from azure.keyvault.secrets import SecretClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
from cryptography.hazmat.primitives import serialization

from codemie_provisioner import Recorder, Session
from codemie_provisioner.sandbox import Sandbox

from .conftest import SPEC

REPO = SPEC.parents[1]
PASSWORD = "codemie-postgres-admin-password"
PRIVATE_KEY = "codemie-vm-private-key"
# Throttling is not the subject here (test_faults.py owns it); nine CLI runs in a row would only be slowed by it.
PROFILE = {"base": "instant", "rules": {"throttling": False}}
# Changed out of band before the CLI runs: the two resources whose bodies carry a generated secret.
TAMPERED = ["jumpbox", "postgres"]


@dataclass
class Deployment:
    sandbox: Sandbox
    state: dict
    secrets: dict[str, str]
    artefacts: dict[str, str] = field(default_factory=dict)       # where -> text the tool wrote or printed
    controls: dict[str, str] = field(default_factory=dict)        # output that shows a secret on request
    vault_uri: str = ""
    secrets_later: dict[str, str] = field(default_factory=dict)   # read again after the CLI's updates

    def rg_and_name(self, address: str) -> tuple[str, str]:
        parts = self.state["resources"][address]["id"].split("/")
        return parts[4], parts[-1]


def read_secrets(sb: Sandbox, vault_uri: str) -> dict[str, str]:
    client = SecretClient(vault_url=vault_uri, credential=sb.credential, connection_verify=sb.ca_file,
                          verify_challenge_resource=False)
    return {name: client.get_secret(name).value for name in (PASSWORD, PRIVATE_KEY)}


def cli(sb_dir: Path, state_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "codemie_provisioner", *args, "--spec", str(SPEC), "--sandbox",
           "--sandbox-dir", str(sb_dir), "--state-dir", str(state_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def needles(secret: str, public_key: str) -> list[str]:
    """Every form a leaked secret could take in text: raw, JSON-escaped, and each long line of a PEM body
    (lines that are also part of the public key are not secret and are left out)."""
    lines = [ln for ln in secret.splitlines() if len(ln) >= 40 and ln not in public_key]
    return [secret, json.dumps(secret)[1:-1], *lines]


def leaks(dep: Deployment, artefacts: dict[str, str]) -> list[tuple[str, str]]:
    """(secret name, artefact) for every artefact holding any form of any secret."""
    public = vm_public_key(dep)
    found = []
    for name, value in dep.secrets.items():
        for where, text in artefacts.items():
            if any(n in text for n in needles(value, public)):
                found.append((name, where))
    return found


def vm_public_key(dep: Deployment) -> str:
    rg, name = dep.rg_and_name("jumpbox")
    vm = dep.sandbox.client(ComputeManagementClient).virtual_machines.get(rg, name)
    return vm.os_profile.linux_configuration.ssh.public_keys[0].key_data


def run_cli(dep: Deployment, sb_dir: Path, state_dir: Path, work: Path) -> None:
    """Every command a user runs after the apply, JSON and plain, kept as artefacts (the resources holding
    secrets were tampered with first, so drift, plan and apply all have something to say about them)."""
    env_file = work / "deployment_outputs.env"
    commands = {
        "drift --json": ("drift", "--json"), "drift --plain": ("drift", "--plain"),
        "plan --json": ("plan", "--json"), "plan --plain": ("plan", "--plain"),
        "apply --json": ("apply", "--yes", "--json"), "apply --plain": ("apply", "--yes", "--plain"),
        "output --json": ("output", "--json"), "output --plain": ("output", "--plain"),
        "output --format env": ("output", "--format", "env", "--file", str(env_file)),
    }
    for label, args in commands.items():
        proc = cli(sb_dir, state_dir, work, *args)
        assert proc.returncode == (2 if label.startswith("drift") else 0), (label, proc.stderr)
        dep.artefacts[f"cli {label}"] = proc.stdout + proc.stderr
    lines = [json.loads(line) for line in dep.artefacts["cli plan --json"].splitlines() if line.startswith("{")]
    plan = next(doc for doc in lines if doc.get("format") == "codemie-plan/1")
    assert sorted(c["address"] for c in plan["changes"] if c["action"] != "noop") == TAMPERED
    dep.artefacts["env file"] = env_file.read_text()
    shown = cli(sb_dir, state_dir, work, "output", "--json", "--show-secrets")
    assert shown.returncode == 0, shown.stderr
    dep.controls["output --show-secrets"] = shown.stdout


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Deployment:
    work = tmp_path_factory.mktemp("secrets")
    sb_dir, state_dir = work / "cloud", work / "state"
    with Sandbox(PROFILE, data_dir=sb_dir) as sb:
        rec = Recorder()
        with Session(SPEC, sandbox=sb, state_dir=state_dir, sink=rec) as s:
            assert s.apply().ok
            state = s.store.latest().to_dict()
            dep = Deployment(sb, state, {})
            rg, vault = dep.rg_and_name("kv")
            dep.vault_uri = sb.client(KeyVaultManagementClient).vaults.get(rg, vault).properties.vault_uri
            dep.secrets = read_secrets(sb, dep.vault_uri)
            for address in TAMPERED:
                sb.tamper(state["resources"][address]["id"], {"tags": {"environment": "changed-in-the-portal"}})
            plan = s.plan()
            assert sorted(c.address for c in plan.changes if c.action != "noop") == TAMPERED
            dep.artefacts["plan"] = json.dumps(plan.to_dict(), default=str)
        run_cli(dep, sb_dir, state_dir, work)
        dep.artefacts["events"] = "\n".join(json.dumps(e.to_dict(), default=str) for e in rec.events)
        for path in sorted(state_dir.rglob("*")):
            if path.is_file():
                dep.artefacts[f"state {path.relative_to(state_dir)}"] = path.read_text(errors="replace")
        dep.artefacts["request log"] = (sb_dir / "requests.jsonl").read_text()
        dep.secrets_later = read_secrets(sb, dep.vault_uri)
        yield dep


def test_the_secrets_are_real_and_stored_in_key_vault(deployment):
    password, key = deployment.secrets[PASSWORD], deployment.secrets[PRIVATE_KEY]
    assert len(password) >= 32 and key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    snapshots = [w for w in deployment.artefacts if w.startswith("state ") and "snapshots" in w]
    assert len(snapshots) >= 2                         # the first apply and the CLI's repair of postgres


def test_updating_a_resource_that_holds_a_secret_keeps_the_stored_secret(deployment):
    """The CLI's apply updated postgres and the jumpbox (their tags): the password and key in Key Vault must
    still be the ones the server and the VM were created with."""
    assert "update" in deployment.artefacts["cli apply --json"]
    assert deployment.secrets_later == deployment.secrets


def test_no_secret_appears_in_anything_the_tool_writes_or_prints(deployment):
    assert {"plan", "events", "request log", "env file", "cli apply --json", "cli output --format env"} <= \
        set(deployment.artefacts)
    assert leaks(deployment, deployment.artefacts) == []


def test_the_search_finds_a_secret_where_the_user_asked_for_it(deployment):
    """The control: `output --show-secrets` prints the password on purpose, and the same search finds it."""
    assert leaks(deployment, deployment.controls) == [(PASSWORD, "output --show-secrets")]


def test_postgres_never_answers_its_password(deployment):
    rg, name = deployment.rg_and_name("postgres")
    client = deployment.sandbox.client(PostgreSQLManagementClient)
    raw = client.servers.get(rg, name, cls=lambda response, *_: response.http_response.text())
    assert json.loads(raw)["properties"]["administratorLogin"] == "pgadmin"
    assert "administratorLoginPassword" not in raw and deployment.secrets[PASSWORD] not in raw


def test_the_jumpbox_trusts_the_public_half_of_the_stored_private_key(deployment):
    private = serialization.load_ssh_private_key(deployment.secrets[PRIVATE_KEY].encode(), password=None)
    derived = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                serialization.PublicFormat.OpenSSH).decode()
    assert vm_public_key(deployment).split()[:2] == derived.split()[:2]
