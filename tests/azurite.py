"""Azurite for tests: a blob-only emulator on loopback, started on a free port and stopped afterwards.

Why a shared helper: the state store tests and any other test that needs a real blob endpoint (the CLI with
a blob backend, the bootstrap of the spec's state account) drive the real azure-storage-blob client against
the same emulator. Azurite 3.35 accepts Blob API versions up to 2025-11-05 while azure-storage-blob 12.31
defaults to a newer one, so clients built here pin `AZURITE_API_VERSION` (which keeps Azurite's version check
on, unlike `--skipApiVersionCheck`). A missing Azurite is an error, never a skip: run `.ci/azurite.sh`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from azure.storage.blob import BlobServiceClient

AZURITE_API_VERSION = "2025-11-05"
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO = Path(__file__).resolve().parent.parent
LOCAL_INSTALL = REPO / ".tools" / "node_modules" / ".bin" / "azurite-blob"
LISTENING = re.compile(r"listens on http://127\.0\.0\.1:(\d+)")


class AzuriteMissing(RuntimeError):
    pass


def account_key(name: str) -> str:
    """A stable, well-formed (base64, 64 bytes) key for a custom test account."""
    return base64.b64encode(hashlib.sha512(name.encode()).digest()).decode()


@dataclass(frozen=True)
class AzuriteAccount:
    account_name: str
    account_key: str
    account_url: str
    api_version: str = AZURITE_API_VERSION

    @property
    def credential(self) -> dict[str, str]:
        return {"account_name": self.account_name, "account_key": self.account_key}

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
                f"AccountKey={self.account_key};BlobEndpoint={self.account_url};")

    def service_client(self, **kwargs) -> BlobServiceClient:
        kwargs.setdefault("api_version", self.api_version)
        return BlobServiceClient(self.account_url, credential=self.credential, **kwargs)


@dataclass(frozen=True)
class Azurite:
    port: int
    accounts: dict[str, AzuriteAccount]

    @property
    def default(self) -> AzuriteAccount:
        return next(iter(self.accounts.values()))

    def account(self, name: str) -> AzuriteAccount:
        return self.accounts[name]

    @property
    def account_url(self) -> str:
        return self.default.account_url

    @property
    def account_name(self) -> str:
        return self.default.account_name

    @property
    def account_key(self) -> str:
        return self.default.account_key

    @property
    def connection_string(self) -> str:
        return self.default.connection_string


def find_azurite_blob() -> str:
    """The `azurite-blob` executable: $AZURITE_BLOB_BIN, PATH, or the project-local install."""
    candidates = [os.environ.get("AZURITE_BLOB_BIN"), shutil.which("azurite-blob"), str(LOCAL_INSTALL)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AzuriteMissing("azurite-blob not found (not on PATH, no $AZURITE_BLOB_BIN, nothing in .tools/); "
                         "run .ci/azurite.sh to install it with npm")


def _command(binary: str, location: str | None) -> list[str]:
    store = ["--location", location] if location else ["--inMemoryPersistence"]
    return [binary, "--blobHost", "127.0.0.1", "--blobPort", "0", "--disableTelemetry", "--silent", *store]


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_for_port(proc: subprocess.Popen, lines: queue.Queue, deadline: float) -> int:
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip())
        if match := LISTENING.search(line):
            return int(match.group(1))
    proc.kill()
    raise RuntimeError(f"Azurite did not start (exit {proc.poll()}): {' | '.join(seen[-5:])}")


def _wait_until_answering(url: str, deadline: float) -> None:
    while True:
        try:
            urllib.request.urlopen(f"{url}?comp=list", timeout=2).close()
            return
        except urllib.error.HTTPError:   # any HTTP answer (403 without auth) means it serves requests
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def azurite_server(accounts: Sequence[str] = (), location: str | None = None, binary: str | None = None,
                   timeout: float = 30.0) -> Iterator[Azurite]:
    """Run Azurite (blob only) on 127.0.0.1 with `devstoreaccount1` plus the named custom accounts."""
    keys = {DEV_ACCOUNT: DEV_KEY, **{name: account_key(name) for name in accounts}}
    env = dict(os.environ, AZURITE_ACCOUNTS=";".join(f"{n}:{k}" for n, k in keys.items()))
    proc = subprocess.Popen(_command(binary or find_azurite_blob(), location), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        port = _wait_for_port(proc, lines, deadline)
        base = f"http://127.0.0.1:{port}"
        _wait_until_answering(f"{base}/{DEV_ACCOUNT}", deadline)
        yield Azurite(port, {n: AzuriteAccount(n, k, f"{base}/{n}") for n, k in keys.items()})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def azurite_for_tests(accounts: Sequence[str] = ()) -> Iterator[Azurite]:
    """`azurite_server` for a pytest fixture: a missing Azurite fails the test run, never skips it."""
    import pytest

    try:
        binary = find_azurite_blob()
    except AzuriteMissing as exc:
        pytest.fail(str(exc))
    with azurite_server(accounts=accounts, binary=binary) as server:
        yield server
