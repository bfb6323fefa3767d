"""The generic ARM protocol for every registered type: GET/HEAD, PUT, PATCH, DELETE, list, POST actions.

Why: the status codes, error codes, visibility rules and paging of ARM are the same for every resource type
(azure-behaviours.md §2, §5, §7); a type only supplies facts and hooks (`model.ResourceType`). The order of
checks follows ARM: type and api-version, then the scope (group, parent), then the rules, then the type's own
validation, then the write in the type's LRO style.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from . import ids, lro, records
from .context import Answer
from .faults import failure, shapes_operation
from .model import ArmError, ResourceType, lookup
from .rules import check_busy, check_global_name, check_location, check_name

RG = ids.RG_TYPE.lower()


def serve(ctx, target: ids.Target, body) -> Answer:
    """Answer a request addressed to a resource or a collection."""
    if target.collection and ctx.method == "POST":
        return action(ctx, target, body)
    rt = resolve_type(ctx, target)
    if target.collection:
        if ctx.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"The {ctx.method} method is not allowed on a collection.")
        return list_collection(ctx, rt, target)
    if ctx.method in ("GET", "HEAD"):
        return read(ctx, rt, target)
    if ctx.method in ("PUT", "PATCH"):
        return write(ctx, rt, target, body, patch=ctx.method == "PATCH")
    if ctx.method == "DELETE":
        return delete(ctx, rt, target)
    raise ArmError(405, "MethodNotAllowed", f"The {ctx.method} method is not allowed on {target.type_name}.")


# ------------------------------------------------------------------ checks


def resolve_type(ctx, target: ids.Target) -> ResourceType:
    rt = lookup(target.type_name)
    if rt is None:
        from .types import LOAD_ERRORS

        broken = f" (sandbox type modules that failed to load: {LOAD_ERRORS})" if LOAD_ERRORS else ""
        raise ArmError(400, "NoRegisteredProviderFound", "No registered resource provider found for location "
                       f"'global' and API version '{ctx.query.get('api-version', '')}' for type "
                       f"'{target.type_name.split('/', 1)[-1]}'.{broken}")
    check_api_version(ctx, rt)
    return rt


def check_api_version(ctx, rt: ResourceType) -> None:
    version = ctx.query.get("api-version")
    if not version:
        raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                       "required for all requests.")
    if version not in rt.api_versions:
        raise ArmError(400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid. The "
                       f"supported versions are '{','.join(rt.api_versions)}'.")


def live(ctx, key: str) -> dict | None:
    rec = ctx.store.get(key)
    return rec if rec is not None and rec["visible"] else None


def require_scope(ctx, target: ids.Target) -> None:
    """The group must exist; so must the parent of a child and a resource scope of an extension."""
    group = target.group
    if group and live(ctx, group) is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group.rsplit('/', 1)[-1]}' could not "
                       "be found.")
    parent = ids.parse(target.parent)
    if target.parent.lower() == (group or "").lower() or parent is None or lookup(parent.type_name) is None:
        return
    if live(ctx, parent.key) is None:
        raise ArmError(404, "ParentResourceNotFound", "Can not perform requested operation on nested resource. "
                       f"Parent resource '{target.parent}' not found.")


def not_found(target: ids.Target) -> ArmError:
    if target.type_name.lower() == RG:
        return ArmError(404, "ResourceGroupNotFound", f"Resource group '{target.name}' could not be found.")
    group = (target.group or "").rsplit("/", 1)[-1]
    return ArmError(404, "ResourceNotFound", f"The Resource '{target.type_name}/{target.name}' under resource "
                    f"group '{group}' was not found.")


def check_conditions(ctx, rec: dict | None) -> None:
    """If-Match / If-None-Match as ARM applies them (azure-behaviours.md §7)."""
    if_match, if_none = ctx.headers.get("if-match"), ctx.headers.get("if-none-match")
    etag = (rec or {}).get("body", {}).get("etag")
    failed = (if_none == "*" and rec is not None) or \
        (if_match is not None and (rec is None or (if_match != "*" and if_match != etag)))
    if failed:
        raise ArmError(412, "PreconditionFailed", "The condition specified by the If-Match or If-None-Match "
                       "header was not met.")


def check_generic(ctx, rt: ResourceType, target: ids.Target, content: dict, extra: list[str]) -> None:
    if ctx.rule("validation"):
        check_name(rt, target.name)
        check_location(rt, content)
    if rt.global_name:
        check_global_name(rt, target, ctx.store.of_type(rt.type))
    group = target.group and live(ctx, target.group)
    if group and records.state_of(group["body"]) == "Deleting":
        raise ArmError(409, "ResourceGroupBeingDeleted", f"The resource group '{target.group}' is in deprovisioning "
                       "state and cannot perform this operation.")
    check_busy(rt, target, ctx.store.pending_ops(), ctx.rule("parent_locks"), extra)


# ------------------------------------------------------------------ verbs


def read(ctx, rt: ResourceType, target: ids.Target) -> Answer:
    require_scope(ctx, target)
    rec = live(ctx, target.key)
    if rec is None:
        raise not_found(target)
    headers = {"ETag": rec["body"]["etag"]} if rec["body"].get("etag") else {}
    op = lro.pending_on(ctx, target.key)
    if op is not None:
        headers.update(lro.poll_headers(ctx, op))
    if ctx.method == "HEAD":
        return Answer(204, None, headers)
    return Answer(200, rec["body"], headers)


def write(ctx, rt: ResourceType, target: ids.Target, body, patch: bool) -> Answer:
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized: a JSON object is required.")
    require_scope(ctx, target)
    rec = ctx.store.get(target.key)
    current = rec if rec is not None and rec["visible"] else None
    check_conditions(ctx, current)
    if patch:
        if current is None:
            raise not_found(target)
        body = patched(current["body"], body)
    content = client_content(rt, body)
    extra = rt.extra_locks(ctx, target.path, content) if rt.extra_locks else []
    check_generic(ctx, rt, target, content, extra)
    existing = current["body"] if current else None
    if rt.validate is not None:
        rt.validate(ctx, target.path, content, existing)
    if rt.populate is not None:
        content = rt.populate(ctx, target.path, content, existing)
    style = (rt.patch or "sync") if patch else rt.put
    return store_write(ctx, rt, target, rec, content, style, "patch" if patch else "put", extra)


def store_write(ctx, rt: ResourceType, target: ids.Target, rec: dict | None, content: dict, style: str,
                kind: str, extra: list[str]) -> Answer:
    lro.supersede(ctx, target.key)
    new = rec is None or not rec["visible"]
    rid, status = (rec["id"] if rec else target.path), (201 if new else 200)
    fault = ctx.fault if shapes_operation(ctx.fault) else None
    if style == "sync":
        return sync_write(ctx, rt, target, rec, content, status, fault, extra)
    op = lro.begin(ctx, kind, rt, target, content.get("location"), fault, extra)
    if style == "location":
        op["body"] = records.stamp(ctx, rt, rid, rt.type, content, "Succeeded")
        if new:
            ctx.store.put(records.make_record(ctx, target, op["body"], False, rec))
        return lro.started(ctx, op, style, 202, None)
    state = rt.pending_state or ("Creating" if new else "Updating")
    body = records.stamp(ctx, rt, rid, rt.type, content, state)
    ctx.store.put(records.make_record(ctx, target, body, True, rec))
    return lro.started(ctx, op, style, status, body)


def sync_write(ctx, rt: ResourceType, target: ids.Target, rec: dict | None, content: dict, status: int,
               fault: dict | None, extra: list[str]) -> Answer:
    """A synchronous write. Under a parent lock it still holds the lock for the type's duration, so writers
    that overlap in time conflict as on Azure."""
    if fault and fault.get("lro_fail"):
        raise ArmError(int(fault.get("status", 500)), **failure(fault))
    body = records.stamp(ctx, rt, rec["id"] if rec else target.path, rt.type, content, "Succeeded")
    ctx.store.put(records.make_record(ctx, target, body, True, rec))
    if (rt.lock or extra) and ctx.profile.duration(lro.duration_key(ctx, rt)) > 0:
        lro.begin(ctx, "hold", rt, target, content.get("location"), None, extra)
    return Answer(status, body, {"ETag": body["etag"]} if body.get("etag") else {})


def delete(ctx, rt: ResourceType, target: ids.Target) -> Answer:
    require_scope(ctx, target)
    rec = live(ctx, target.key)
    if rec is None:
        if target.type_name.lower() == RG:
            raise not_found(target)
        return Answer(204)
    check_conditions(ctx, rec)
    extra = rt.extra_locks(ctx, rec["id"], rec["body"]) if rt.extra_locks else []
    check_busy(rt, target, ctx.store.pending_ops(), ctx.rule("parent_locks"), extra)
    if rt.before_delete is not None:
        rt.before_delete(ctx, rec["id"], rec["body"])
    fault = ctx.fault if shapes_operation(ctx.fault) else None
    lro.supersede(ctx, target.key)
    if rt.delete == "sync":
        if fault and fault.get("lro_fail"):
            raise ArmError(int(fault.get("status", 500)), **failure(fault))
        records.remove(ctx, rec)
        return Answer(200)
    op = lro.begin(ctx, "delete", rt, target, rec["body"].get("location"), fault, extra)
    rec["body"] = records.with_state(rec["body"], "Deleting")
    ctx.store.put(rec)
    return lro.started(ctx, op, rt.delete, 202, None)


def action(ctx, target: ids.Target, body) -> Answer:
    """POST {resource}/{action}: the type's action hook."""
    owner = ids.parse(target.parent)
    rt = lookup(owner.type_name) if owner else None
    name = target.type_name.rsplit("/", 1)[-1].lower()
    fn = next((f for k, f in (rt.actions if rt else {}).items() if k.lower() == name), None)
    if owner is None or fn is None:
        raise ArmError(404, "NotFound", f"No action '{name}' on '{target.parent}'.")
    check_api_version(ctx, rt)
    require_scope(ctx, owner)
    rec = live(ctx, owner.key)
    status, out = fn(ctx, owner.path, rec["body"] if rec else None, body if isinstance(body, dict) else {})
    return Answer(status, out)


# ------------------------------------------------------------------ lists


def list_collection(ctx, rt: ResourceType, target: ids.Target) -> Answer:
    if rt.type.lower() == RG:
        recs = ctx.store.children(target.parent)
    elif ids.is_subscription(target.parent) and not target.nested:
        recs = ctx.store.of_type(rt.type)
    else:
        require_scope(ctx, target)
        recs = ctx.store.children(target.parent)
    values = [r["body"] for r in recs if r["visible"] and r["type"].lower() == rt.type.lower()]
    return page(ctx, values)


def list_generic(ctx, group: str | None) -> Answer:
    """GET /subscriptions/{s}/resources and /subscriptions/{s}/resourcegroups/{rg}/resources: tracked top-level
    resources without their properties, optionally `$filter=resourceType eq '...'`."""
    check_api_version(ctx, lookup(ids.RG_TYPE))
    if group is not None and live(ctx, group) is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group.rsplit('/', 1)[-1]}' could not "
                       "be found.")
    recs = ctx.store.in_group(group) if group else ctx.store.all()
    wanted = _filter_type(ctx.query.get("$filter"))
    values = [{k: v for k, v in r["body"].items() if k != "properties"} for r in recs
              if r["visible"] and _tracked_top_level(r) and (wanted is None or r["type"].lower() == wanted)]
    return page(ctx, values)


def _tracked_top_level(rec: dict) -> bool:
    """Directly in a group and tracked (has a location): not a child, not an extension such as a role
    assignment or a diagnostic setting."""
    rt = lookup(rec["type"])
    return bool(rec["group"]) and rec["parent"] == rec["group"] and (rt is None or rt.location)


def _filter_type(expr: str | None) -> str | None:
    found = re.search(r"resourceType\s+eq\s+'([^']*)'", expr or "", re.IGNORECASE)
    return found.group(1).lower() if found else None


def page(ctx, values: list) -> Answer:
    """One page of a list, with an absolute `nextLink` carrying `$skiptoken` when more remain."""
    size = max(1, int(ctx.profile.page_size))
    try:
        skip = int(ctx.query.get("$skiptoken") or 0)
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.") from None
    out: dict = {"value": values[skip:skip + size]}
    if skip + size < len(values):
        query = {**{k: v for k, v in ctx.query.items() if k != "$skiptoken"}, "$skiptoken": skip + size}
        out["nextLink"] = f"{ctx.base_url}{ctx.path}?{urlencode(query)}"
    return Answer(200, out)


# ------------------------------------------------------------------ bodies


def client_content(rt: ResourceType, body: dict) -> dict:
    """The request body without fields the server owns."""
    out = {k: v for k, v in body.items() if k not in records.SERVER_FIELDS}
    props = out.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: v for k, v in props.items()
                             if k != "provisioningState" and k not in rt.read_only_props}
    return out


def patched(current: dict, patch: dict) -> dict:
    """A PATCH as ARM applies it: JSON merge patch, except that `tags` are replaced as a whole."""
    out = merge_patch(current, {k: v for k, v in patch.items() if k != "tags"})
    if "tags" in patch:
        out["tags"] = patch["tags"] or {}
    return out


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out
