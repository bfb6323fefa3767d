"""HTTPS transport for the sandbox: bytes in, `Cloud.handle`, bytes out.

Why: the real SDK clients must reach the sandbox exactly as they reach Azure: TLS, HTTP/1.1 keep-alive and
many concurrent connections (the engine runs a worker pool). The standard library server is enough; the TLS
handshake happens in each connection's own thread so one slow client never blocks the others.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import admin
from .context import Request
from .core import Cloud
from .tls import TlsFiles, server_context

IDLE_TIMEOUT_S = 120


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    wbufsize = 1 << 16        # headers and body leave in one segment (no Nagle / delayed-ACK stall)
    disable_nagle_algorithm = True
    server: SandboxServer

    def _answer(self) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        req = Request(self.command, url.path, dict(parse_qsl(url.query, keep_blank_values=True)),
                      {k.lower(): v for k, v in self.headers.items()}, raw)
        if url.path.lower().startswith("/sandbox/"):
            ans = admin.handle(self.server.cloud, req, str(self.server.tls.ca_file))
        else:
            ans = self.server.cloud.handle(req)
        payload = b"" if ans.body is None else json.dumps(ans.body).encode()
        self.send_response(ans.status)
        for name, value in ans.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _body(self) -> bytes:
        """The request body, sized by Content-Length or sent in chunks (streamed uploads)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _answer

    def log_message(self, format, *args):  # the cloud keeps its own request log
        return


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, cloud: Cloud, tls: TlsFiles, port: int = 0):
        super().__init__(("127.0.0.1", port), Handler)
        self.cloud, self.tls = cloud, tls
        self.socket = server_context(tls).wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> None:
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="sandbox-https",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def handle_error(self, request, client_address):  # dropped connections and TLS noise are not our business
        return
