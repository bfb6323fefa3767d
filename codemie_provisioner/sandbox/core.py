"""The sandbox's cloud: one object that answers requests, independent of HTTP.

Why: the HTTP server, the admin API, the CLI (tamper/remove on a stopped sandbox) and tests all need the same
cloud, so request handling lives here and `server.py` only moves bytes. Each request runs through the same gate:
authentication, throttling, injected faults, settling due operations, then routing (custom routes, operation
polling, generic lists, resources) inside one store transaction.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import traceback
import uuid
from pathlib import Path

from . import arm, ids, lro, records
from .context import Answer, Request, RequestCtx
from .faults import Faults, as_error, shapes_operation
from .model import DATA_PLANES, ROUTES, ArmError, lookup
from .profile import Profile
from .rules import Throttle, request_class, throttled
from .store import Store

GENERIC_LIST = re.compile(r"/subscriptions/[^/]+(?:/resourcegroups/(?P<rg>[^/]+))?/resources", re.IGNORECASE)
STATUS = re.compile(lro.STATUS_PATH, re.IGNORECASE)
GATEWAY_CODES = {"ResourceGroupNotFound", "SubscriptionNotFound", "MissingApiVersionParameter",
                 "InvalidApiVersionParameter", "NoRegisteredProviderFound", "SubscriptionRequestsThrottled",
                 "AuthenticationFailed"}
LOG_LIMIT = 100_000          # entries kept in memory (the file keeps everything)


class RequestLog:
    """Every request in memory and, with a data directory, appended to requests.jsonl."""

    def __init__(self, data_dir: Path | None):
        self.entries: list[dict] = []
        self.lock = threading.Lock()
        self.file = (data_dir / "requests.jsonl").open("a", encoding="utf-8") if data_dir else None

    def record(self, entry: dict) -> None:
        with self.lock:
            if len(self.entries) >= LOG_LIMIT:
                del self.entries[:LOG_LIMIT // 2]
            self.entries.append(entry)
            if self.file is not None:
                self.file.write(json.dumps(entry) + "\n")
                self.file.flush()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.entries)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class Cloud:
    """Resources, operations, rules and faults of one sandbox."""

    def __init__(self, profile: Profile, data_dir: Path | None = None):
        self.data_dir = data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(data_dir / "cloud.db" if data_dir else None)
        self.base_url = ""
        self.subscription_id = self._identity("subscription_id", profile.seed)
        self.tenant_id = self._identity("tenant_id", profile.seed)
        starts = int(self.store.meta("starts", 0)) + 1
        self.store.set_meta("starts", starts)
        self._guids = random.Random(f"{profile.seed}/{self.subscription_id}/{starts}")
        self._guid_lock = threading.Lock()
        self.log = RequestLog(data_dir)
        self.last_error: str | None = None
        self.set_profile(profile)

    def _identity(self, name: str, seed: int) -> str:
        value = self.store.meta(name)
        if value is None:
            value = str(uuid.uuid4() if self.data_dir else uuid.UUID(int=random.Random(f"{seed}/{name}")
                                                                     .getrandbits(128), version=4))
            self.store.set_meta(name, value)
        return value

    # ------------------------------------------------------------ configuration and clock

    def set_profile(self, profile: Profile) -> None:
        """Swap the profile; throttle buckets, fault counters and the transient generator start afresh."""
        self.profile = profile
        self.throttle = Throttle(profile.throttling, profile.time_scale)
        self.faults = Faults(profile.faults, profile.transient_rate, profile.seed,
                             float(profile.settings.get("transient_retry_after", 0.05)))

    def now(self) -> float:
        return time.time() + float(self.store.meta("clock_offset", 0.0))

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (operations due by then finish at the next request)."""
        with self.store.batch():
            self.store.set_meta("clock_offset", float(self.store.meta("clock_offset", 0.0)) + seconds)

    def new_guid(self) -> str:
        with self._guid_lock:
            return str(uuid.UUID(int=self._guids.getrandbits(128), version=4))

    def close(self) -> None:
        self.log.close()
        self.store.close()

    # ------------------------------------------------------------ requests

    def handle(self, req: Request) -> Answer:
        """Answer one request; never raises."""
        started = time.perf_counter()
        try:
            ans = self._serve(req)
        except ArmError as err:
            ans = error_answer(err)
        except Exception as err:  # a sandbox bug must reach the client as a 500, not kill the server
            self.last_error = traceback.format_exc()
            ans = Answer(500, {"error": {"code": "InternalServerError", "message": f"sandbox error: {err!r}"}})
        self._decorate(req, ans)
        self.log.record({"method": req.method, "path": req.path, "api_version": req.query.get("api-version"),
                         "status": ans.status, "ms": round((time.perf_counter() - started) * 1000, 3),
                         "ts": time.time(), "client_request_id": req.headers.get("x-ms-client-request-id"),
                         "write": req.method in ("PUT", "PATCH", "DELETE", "POST"), "code": error_code(ans)})
        return ans

    def _serve(self, req: Request) -> Answer:
        ctx = RequestCtx(self, req)
        plane = next((p for p in DATA_PLANES if req.path.lower().startswith(p.lower())), None)
        if plane is not None:
            rest = req.path[len(plane):]
            return self._transaction(ctx, lambda: Answer(*DATA_PLANES[plane](ctx, req.method, rest, req.query,
                                                                              req.headers, req.raw)))
        if "authorization" not in req.headers:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                           "missing.")
        self._gate(ctx, req)
        body = parse_json(req.raw)
        return self._transaction(ctx, lambda: self._route(ctx, body))

    def _transaction(self, ctx: RequestCtx, answer) -> Answer:
        """Settle due operations (kept even if the request then fails), then answer in one transaction."""
        with self.store.batch():
            lro.settle(ctx)
            ctx.flush_bins()
        with self.store.batch():
            ans = answer()
            ctx.flush_bins()
        return ans

    def _gate(self, ctx: RequestCtx, req: Request) -> None:
        """Throttling, transient failures and targeted faults, before anything is read or written."""
        ctx.request_class = request_class(req.method)
        if self.profile.rule("throttling"):
            ctx.remaining, wait = self.throttle.take(ctx.request_class)
            if wait is not None:
                raise throttled(wait)
        transient = self.faults.transient()
        if transient is not None:
            raise transient
        kind, name = fault_subject(req.method, ctx.target)
        if kind:
            ctx.fault = self.faults.hit(req.method, kind, name)
            if ctx.fault is not None and not shapes_operation(ctx.fault):
                raise as_error(ctx.fault)

    def _route(self, ctx: RequestCtx, body) -> Answer:
        sub = ids.subscription_of(ctx.path)
        known = {self.subscription_id.lower(), *(x.lower() for x in self.profile.settings.get("subscriptions", []))}
        if sub and sub.lower() not in known:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        for method, pattern, fn in ROUTES:
            found = pattern.fullmatch(ctx.path) if method == ctx.method else None
            if found:
                return Answer(*fn(ctx, found, ctx.query, body))
        found = STATUS.fullmatch(ctx.path)
        if found and ctx.method == "GET":
            return lro.poll(ctx, found)
        found = GENERIC_LIST.fullmatch(ctx.path)
        if found and ctx.method == "GET":
            rg = found["rg"]
            return arm.list_generic(ctx, f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}" if rg else None)
        if ctx.target is None:
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI "
                           f"'{ctx.path}'.")
        return arm.serve(ctx, ctx.target, body)

    def _decorate(self, req: Request, ans: Answer) -> None:
        cls = request_class(req.method)
        ans.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        ans.headers["x-ms-correlation-request-id"] = req.headers.get("x-ms-correlation-request-id") or \
            ans.headers["x-ms-request-id"]
        if req.headers.get("x-ms-client-request-id"):
            ans.headers["x-ms-client-request-id"] = req.headers["x-ms-client-request-id"]
        ans.headers[f"x-ms-ratelimit-remaining-subscription-{cls}"] = str(self.throttle.remaining(cls))

    # ------------------------------------------------------------ out-of-band changes

    def tamper(self, resource_id: str, patch: dict) -> dict:
        """Change a resource as a portal user would (JSON merge patch); returns the new body."""
        ctx = RequestCtx(self, Request("PATCH", ids.clean(resource_id)))
        with self.store.batch():
            rec = arm.live(ctx, resource_id)
            if rec is None:
                raise KeyError(f"no such resource: {resource_id}")
            rt = lookup(rec["type"])
            body = arm.merge_patch(rec["body"], patch)
            if rt is None or rt.etag:
                body["etag"] = f'W/"{self.new_guid()}"'
            rec["body"] = body
            self.store.put(rec)
            ctx.flush_bins()
        return body

    def remove(self, resource_id: str) -> None:
        """Delete a resource (and what is under it) as a portal user would."""
        ctx = RequestCtx(self, Request("DELETE", ids.clean(resource_id)))
        with self.store.batch():
            rec = self.store.get(resource_id)
            if rec is None:
                raise KeyError(f"no such resource: {resource_id}")
            records.remove(ctx, rec)
            ctx.flush_bins()

    def reset(self) -> None:
        with self.store.batch():
            self.store.reset()
        self.log.clear()


def fault_subject(method: str, target: ids.Target | None) -> tuple[str, str]:
    """(ARM type, name) a fault matches: the resource, or for a POST action the resource it acts on."""
    if target is None:
        return "", ""
    if target.collection and method == "POST":
        owner = ids.parse(target.parent)
        return (owner.type_name, owner.name) if owner else ("", "")
    return target.type_name, target.name


def parse_json(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized.") from None


def error_code(ans: Answer) -> str | None:
    """The ARM error code of an error answer (kept in the request log: a 429 throttle and a 429 transient
    failure differ only by it)."""
    error = ans.body.get("error") if ans.status >= 400 and isinstance(ans.body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def error_answer(err: ArmError) -> Answer:
    headers = lro.delay_headers(err.retry_after) if err.retry_after is not None else {}
    if err.code in GATEWAY_CODES:
        headers["x-ms-failure-cause"] = "gateway"
    return Answer(err.status, err.envelope(), headers)
