"""TLS material for the sandbox: a throwaway CA and a server certificate for 127.0.0.1 / localhost.

Why: azure-core refuses to send a bearer token over plain http, so the emulator must speak HTTPS with a
certificate the clients can verify (`connection_verify=<ca file>`). With a data directory the CA is kept there, so
a client configured by one process keeps trusting the sandbox after a restart.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path       # server certificate chain + private key, PEM


def ensure_tls(directory: Path) -> TlsFiles:
    """Create (or reuse) the CA and server certificate under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem")
    if files.ca_file.exists() and files.cert_file.exists():
        return files
    ca = trustme.CA(organization_name="codemie-provisioner sandbox")
    leaf = ca.issue_cert(*HOSTS)
    leaf.private_key_and_cert_chain_pem.write_to_path(str(files.cert_file))
    ca.cert_pem.write_to_path(str(files.ca_file))
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.cert_file))
    return ctx
