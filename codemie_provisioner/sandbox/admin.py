"""The sandbox's own HTTP API under `/sandbox/`: drive a running sandbox from another process.

Why: a sandbox started by `sandbox serve` (or by an engine run) is a separate process; tests and the CLI still
need to swap its profile, make out-of-band changes as a portal user would, read its request log, move its clock
or wipe it. These calls are not ARM calls: they skip auth, throttling and faults and are not logged.

  GET  /sandbox/info                  subscription, tenant, base URL, CA file
  GET  /sandbox/profile               the profile as JSON
  POST /sandbox/profile               merge fields into the profile (`base` replaces it)
  POST /sandbox/tamper                {"id": ..., "patch": {...}}
  POST /sandbox/remove                {"id": ...}
  GET  /sandbox/requests              the request log; DELETE clears it
  POST /sandbox/clock                 {"advance": seconds}
  POST /sandbox/reset                 forget every resource
"""

from __future__ import annotations

import json

from .context import Answer, Request
from .core import Cloud
from .profile import Profile


def handle(cloud: Cloud, req: Request, ca_file: str = "") -> Answer:
    try:
        body = json.loads(req.raw) if req.raw else {}
        return _dispatch(cloud, req.method, req.path.rstrip("/").lower().removeprefix("/sandbox/"), body, ca_file)
    except (KeyError, ValueError, TypeError) as err:
        return Answer(400, {"error": {"code": "BadSandboxRequest", "message": str(err)}})


def _dispatch(cloud: Cloud, method: str, what: str, body: dict, ca_file: str) -> Answer:
    if (method, what) == ("GET", "info"):
        return Answer(200, {"subscription_id": cloud.subscription_id, "tenant_id": cloud.tenant_id,
                            "base_url": cloud.base_url, "ca_file": ca_file})
    if (method, what) == ("GET", "profile"):
        return Answer(200, cloud.profile.to_dict())
    if (method, what) in (("POST", "profile"), ("PUT", "profile")):
        cloud.set_profile(Profile.from_dict(body) if "base" in body else cloud.profile.updated(body))
        return Answer(200, cloud.profile.to_dict())
    if (method, what) == ("POST", "tamper"):
        return Answer(200, cloud.tamper(body["id"], body["patch"]))
    if (method, what) == ("POST", "remove"):
        cloud.remove(body["id"])
        return Answer(200, {"removed": body["id"]})
    if what == "requests" and method in ("GET", "DELETE"):
        if method == "DELETE":
            cloud.log.clear()
            return Answer(200, {"value": []})
        return Answer(200, {"value": cloud.log.snapshot()})
    if (method, what) == ("POST", "clock"):
        cloud.advance(float(body.get("advance", 0)))
        return Answer(200, {"now": cloud.now()})
    if (method, what) == ("POST", "reset"):
        cloud.reset()
        return Answer(200, {"reset": True})
    return Answer(404, {"error": {"code": "NotFound", "message": f"no sandbox endpoint {method} /sandbox/{what}"}})
