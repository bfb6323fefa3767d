"""Checks that need the kinds table or the whole deployment: placement, names, address ranges, duplicate ids.

Why: each of these is a mistake Azure would only report minutes into an apply (or never, for overlapping
subnets created in parallel). They run on literal values only; anything still a marker is left to Azure.
`fail(resource, body_path, message)` turns a finding into a SpecError at the right line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import SpecError
from .model import KindInfo, ResourceSpec

Fail = Callable[[ResourceSpec, tuple, str], SpecError]
CIDR_SUFFIXES = ("addressPrefix", "addressPrefixes", "Cidr", "Cidrs")
_LINKS = {"subscription": (), "rg": ("resource_group",), "parent": ("parent",), "scope": ("scope",)}


def check_resource(res: ResourceSpec, kinds: Mapping[str, KindInfo], by_address: Mapping[str, ResourceSpec],
                   fail: Fail) -> None:
    kind = kinds[res.kind]
    check_placement(res, kinds, by_address, fail)
    check_location(res, kind, fail)
    check_name(res, kind, fail)
    for path, value in iter_cidrs(res.body):
        _parse_cidr(value, res, path, fail)


def check_placement(res: ResourceSpec, kinds: Mapping[str, KindInfo], by_address: Mapping[str, ResourceSpec],
                    fail: Fail) -> None:
    kind = kinds[res.kind]
    wanted = _LINKS.get(kind.scope, ())
    for link in ("resource_group", "parent", "scope"):
        given = getattr(res, link) is not None or getattr(res, _literal_field(link)) is not None
        if given and link not in wanted:
            where = {"subscription": "is a resource group itself", "rg": "needs resource_group",
                     "parent": "lives under its parent", "scope": "attaches to a scope"}.get(kind.scope, "")
            raise fail(res, (link,), f"kind {kind.name} takes no {link} (it {where})")
        if not given and link in wanted:
            raise fail(res, (link,), f"kind {kind.name} needs {link}: ${{ref.<address>}} or an existing "
                                     f"{'group name' if link == 'resource_group' else 'resource id'}")
    target = by_address.get(res.parent or "") if kind.scope == "parent" else None
    if target is not None and target.kind != kind.parent_kind:
        raise fail(res, ("parent",), f"parent must be a {kind.parent_kind}, but {target.address} is a {target.kind}")
    group = by_address.get(res.resource_group or "")
    if group is not None and kinds[group.kind].scope != "subscription":
        raise fail(res, ("resource_group",), f"resource_group must refer to a resource group, but "
                                             f"{group.address} is a {group.kind}")


def _literal_field(link: str) -> str:
    return "resource_group_name" if link == "resource_group" else f"{link}_id"


def check_location(res: ResourceSpec, kind: KindInfo, fail: Fail) -> None:
    if kind.requires_location and res.location is None:
        raise fail(res, ("location",), f"kind {kind.name} needs a location")
    if not kind.requires_location and res.location is not None:
        raise fail(res, ("location",), f"kind {kind.name} takes no location (Azure places it with its parent)")


def check_name(res: ResourceSpec, kind: KindInfo, fail: Fail) -> None:
    pattern = kind.name_pattern
    if pattern and isinstance(res.name, str) and not re.fullmatch(pattern, res.name):
        raise fail(res, ("name",), f"{res.name!r} is not a valid {kind.name} name: {kind.name_hint or pattern}")


def iter_cidrs(body: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(body path, literal value) of every address range in the body, by key suffix."""
    if isinstance(body, dict):
        for key, value in body.items():
            sub = (*path, key)
            if isinstance(key, str) and key.endswith(CIDR_SUFFIXES) and not isinstance(value, dict):
                for i, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
                    if isinstance(item, str) and ("/" in item or item[:1].isdigit()):
                        yield (sub if i is None else (*sub, i)), item
            else:
                yield from iter_cidrs(value, sub)
    elif isinstance(body, list):
        for i, item in enumerate(body):
            yield from iter_cidrs(item, (*path, i))


def _parse_cidr(value: str, res: ResourceSpec, path: tuple, fail: Fail) -> Any:
    try:
        if "/" not in value:
            raise ValueError("no /prefix length")
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        detail = "host bits set" if "host bits" in str(exc) else str(exc).split(" does not appear")[0]
        raise fail(res, path, f"{value!r} is not a valid CIDR ({detail})") from None


def _ranges(res: ResourceSpec, path: tuple[str, ...]) -> list[tuple[tuple, Any]]:
    return [(p, ipaddress.ip_network(v)) for p, v in iter_cidrs(res.body)
            if p[:len(path)] == path and len(p) - len(path) <= 1]


def check_address_space(resources: list[ResourceSpec], fail: Fail) -> None:
    """Children (subnets) must sit inside their parent's addressSpace and must not overlap each other."""
    by_address = {r.address: r for r in resources}
    taken: dict[str, list[tuple[Any, ResourceSpec]]] = {}
    for res in resources:
        if res.parent is None:
            continue
        mine = _ranges(res, ("properties", "addressPrefix")) + _ranges(res, ("properties", "addressPrefixes"))
        parent = by_address.get(res.parent)
        space = [n for _, n in _ranges(parent, ("properties", "addressSpace", "addressPrefixes"))] if parent else []
        for path, net in mine:
            if space and not any(net.version == s.version and net.subnet_of(s) for s in space):
                raise fail(res, path, f"{net} is outside the address space of {res.parent} "
                                      f"({', '.join(map(str, space))})")
            for other_net, other in taken.get(res.parent, []):
                if net.version == other_net.version and net.overlaps(other_net):
                    raise fail(res, path, f"{net} overlaps {other_net} of {other.address}")
        taken.setdefault(res.parent, []).extend((net, res) for _, net in mine)


def check_duplicate_ids(resources: list[ResourceSpec], kinds: Mapping[str, KindInfo], fail: Fail) -> None:
    by_address = {r.address: r for r in resources}
    seen: dict[str, ResourceSpec] = {}
    for res in resources:
        rid = azure_id_pattern(res, by_address, kinds)
        if rid is None:
            continue
        other = seen.setdefault(rid.lower(), res)
        if other is not res:
            raise fail(res, ("name",), f"duplicate Azure resource id {rid}: {other.address} "
                                       f"({other.source}) has the same id")


def azure_id_pattern(res: ResourceSpec, by_address: Mapping[str, ResourceSpec],
                     kinds: Mapping[str, KindInfo]) -> str | None:
    """The resource's id with '*' for the subscription, when every name on the way is literal; else None."""
    kind = kinds[res.kind]
    name = getattr(kind, "fixed_name", None) or res.name
    if not isinstance(name, str):
        return None
    if kind.scope == "subscription":
        return f"/subscriptions/*/resourceGroups/{name}"
    link = _LINKS[kind.scope][0]
    address, literal = getattr(res, link), getattr(res, _literal_field(link))
    if address is not None:
        container = azure_id_pattern(by_address[address], by_address, kinds) if address in by_address else None
    elif kind.scope == "rg" and isinstance(literal, str):
        container = f"/subscriptions/*/resourceGroups/{literal}"
    else:
        container = literal if isinstance(literal, str) else None
    if container is None:
        return None
    if kind.scope == "parent":
        return f"{container}/{kind.arm_type.rsplit('/', 1)[-1]}/{name}"
    return f"{container.rstrip('/')}/providers/{kind.arm_type}/{name}"
