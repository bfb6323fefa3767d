"""Long-running operations: the four PUT styles, the three DELETE styles, and the URLs clients poll.

Why: azure-mgmt-core picks its polling strategy from the first answer (Azure-AsyncOperation, then Location, then
the resource's provisioningState), and each RP uses a different one; a type declares its style and this module
answers exactly as that RP does (azure-behaviours.md §3-4). Operations end at an absolute time on the sandbox
clock and live in the store, so a restarted sandbox (or another process) finishes them on time. Every request
first settles the operations that are due.
"""

from __future__ import annotations

import datetime as dt

from . import ids, records
from .context import Answer
from .faults import failure
from .model import ArmError
from .rules import lock_ids, lock_keys

STUCK_S = 10 * 365 * 86400.0

STATUS_PATH = r"/subscriptions/(?P<sub>[^/]+)/providers/(?P<ns>[^/]+)/locations/(?P<loc>[^/]+)/" \
              r"(?P<kind>operations|operationResults)/(?P<op>[^/]+)"


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


def delay_headers(seconds: float) -> dict:
    """Integer Retry-After from one second up; below that only retry-after-ms (never 0: 0 means 30 s)."""
    if seconds >= 1:
        return {"Retry-After": str(max(1, round(seconds)))}
    return {"retry-after-ms": str(max(1, round(seconds * 1000)))}


# ------------------------------------------------------------------ starting operations


def begin(ctx, kind: str, rt, target: ids.Target, location: str | None, fault: dict | None = None,
          extra_locks: list[str] = ()) -> dict:
    """Record a new operation on `target` (`kind` put | patch | delete | hold); `fault` shapes how it ends."""
    now, fault = ctx.now, fault or {}
    op = {"id": ctx.new_guid(), "done": False, "kind": kind, "key": target.key, "rid": target.path,
          "type": rt.type, "ns": target.namespace, "loc": (location or "global").replace(" ", "").lower(),
          "api": ctx.query.get("api-version", ""), "start": now,
          "deadline": now + (STUCK_S if fault.get("stuck") else ctx.profile.duration(duration_key(ctx, rt))),
          "status": "InProgress", "error": failure(fault) if fault.get("lro_fail") else None,
          "error_status": int(fault.get("status", 400)), "completes": bool(fault.get("completes")),
          "polls": 0, "locks": [*lock_keys(rt, target), *lock_ids(extra_locks)], "body": None}
    ctx.store.put_op(op)
    return op


def duration_key(ctx, rt) -> str | None:
    """The duration class of the operation this request starts: the type's, unless a hook chose another."""
    return getattr(ctx, "duration_key", None) or rt.duration


def op_url(ctx, op: dict, results: bool = False) -> str:
    leaf = "operationResults" if results else "operations"
    return (f"{ctx.base_url}/subscriptions/{ctx.subscription_id}/providers/{op['ns']}/locations/{op['loc']}/"
            f"{leaf}/{op['id']}?api-version={op['api']}")


def poll_headers(ctx, op: dict) -> dict:
    """The delay before the next poll (1, 3, 10 s, scaled), counting this poll."""
    delay = ctx.profile.poll_delay(op["polls"], op["deadline"] - ctx.now)
    op["polls"] += 1
    ctx.store.put_op(op)
    return delay_headers(delay)


def started(ctx, op: dict, style: str, status: int, body: dict | None) -> Answer:
    """The first answer of an operation in the given style."""
    headers = poll_headers(ctx, op)
    if style in ("async_op", "async"):
        headers["Azure-AsyncOperation"] = op_url(ctx, op)
    if style in ("location", "async"):
        headers["Location"] = op_url(ctx, op, results=True)
    if body is not None and body.get("etag"):
        headers["ETag"] = body["etag"]
    return Answer(status, body, headers)


# ------------------------------------------------------------------ finishing operations


def settle(ctx) -> None:
    """Finish every operation whose time has come."""
    now = ctx.now
    for op in ctx.store.pending_ops():
        if op["deadline"] <= now:
            finish(ctx, op)


def finish(ctx, op: dict) -> None:
    rec = ctx.store.get(op["key"])
    if rec is not None and op["kind"] != "hold":
        (_finish_delete if op["kind"] == "delete" else _finish_write)(ctx, op, rec)
    op.update(done=True, status="Failed" if op["error"] else "Succeeded", end=ctx.now)
    ctx.store.put_op(op)


def _finish_write(ctx, op: dict, rec: dict) -> None:
    if op["error"] and not op["completes"]:
        if op["body"] is None:
            rec["body"] = records.with_state(rec["body"], "Failed")
        elif not rec["visible"]:
            ctx.store.delete(rec["key"])
            return
    else:
        rec["body"] = records.with_state(op["body"] or rec["body"], "Succeeded")
        rec["visible"] = True
    ctx.store.put(rec)


def _finish_delete(ctx, op: dict, rec: dict) -> None:
    if op["error"] and not op["completes"]:
        rec["body"] = records.with_state(rec["body"], "Succeeded")
        ctx.store.put(rec)
    else:
        records.remove(ctx, rec)


def supersede(ctx, key: str) -> None:
    """A new write on a resource cancels the operation still running on it (as ARM RPs without a lock do)."""
    for op in ctx.store.pending_ops():
        if op["key"] == key:
            op.update(done=True, status="Canceled", end=ctx.now,
                      error={"code": "Canceled", "message": "The operation was canceled by a later request."})
            ctx.store.put_op(op)


def pending_on(ctx, key: str) -> dict | None:
    for op in ctx.store.pending_ops():
        if op["key"] == key and op["kind"] != "hold":
            return op
    return None


# ------------------------------------------------------------------ polling endpoints


def poll(ctx, match) -> Answer:
    """GET an operation-status resource (`operations`) or an operation result (`operationResults`)."""
    if not ctx.query.get("api-version"):
        raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                       "required for all requests.")
    op = ctx.store.get_op(match["op"])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{match['op']}' was not found.")
    if match["kind"].lower() == "operations":
        return _status(ctx, op)
    return _result(ctx, op)


def _status(ctx, op: dict) -> Answer:
    body = {"id": op_url(ctx, op).split("?")[0].removeprefix(ctx.base_url), "name": op["id"],
            "status": op["status"], "startTime": iso(op["start"])}
    if op["done"]:
        body["endTime"] = iso(op.get("end", op["deadline"]))
    if op["error"]:
        body["error"] = op["error"]
    if op["kind"] in ("put", "patch") and not op["error"]:
        body["resourceId"] = op["rid"]
        body["resourceLocation"] = f"{ctx.base_url}{op['rid']}?api-version={op['api']}"
    return Answer(200, body, {} if op["done"] else poll_headers(ctx, op))


def _result(ctx, op: dict) -> Answer:
    if not op["done"]:
        return Answer(202, None, {"Location": op_url(ctx, op, results=True), **poll_headers(ctx, op)})
    if op["error"]:
        raise ArmError(op["error_status"], op["error"]["code"], op["error"]["message"])
    rec = ctx.store.get(op["key"])
    if op["kind"] == "delete" or rec is None:
        return Answer(200)
    etag = rec["body"].get("etag")
    return Answer(200, rec["body"], {"ETag": etag} if etag else {})
