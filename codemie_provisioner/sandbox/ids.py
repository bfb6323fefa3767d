"""ARM paths -> what they address.

Why: one parser serves every type. A path is a resource group, a resource (top level, nested child, or an
extension resource under any scope such as `{vnet}/providers/Microsoft.Insights/diagnosticSettings/x`), or a
collection of those. The last `/providers/{namespace}` splits the scope from the typed part; an odd number of
segments after the namespace means a collection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RG_TYPE = "Microsoft.Resources/resourceGroups"
_RG = re.compile(r"/subscriptions/(?P<sub>[^/]+)/resourcegroups(?:/(?P<rg>[^/]+))?", re.IGNORECASE)
_SUB = re.compile(r"/subscriptions/(?P<sub>[^/]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """A resource (`collection` False) or a collection of one type under `parent`."""

    path: str             # the id (resource) or the collection path, as sent
    type_name: str        # full ARM type as sent, e.g. Microsoft.Network/virtualNetworks/subnets
    name: str             # last name ('' for collections)
    parent: str           # id of the parent: parent resource, extension scope, resource group or subscription
    subscription: str
    nested: bool          # a child type (its parent is a resource of the same namespace)
    collection: bool

    @property
    def key(self) -> str:
        return self.path.lower()

    @property
    def group(self) -> str | None:
        """The resource-group id this target lives in (None at subscription scope or for groups themselves)."""
        return group_of(self.path) if self.type_name.lower() != RG_TYPE.lower() else None

    @property
    def namespace(self) -> str:
        return self.type_name.split("/", 1)[0]


def clean(path: str) -> str:
    return "/" + "/".join(s for s in path.split("/") if s)


def parse(path: str) -> Target | None:
    """The target of an ARM path, or None when it is not a resource path."""
    path = clean(path)
    rg = _RG.fullmatch(path)
    if rg:
        return _group_target(path, rg["sub"], rg["rg"])
    low = path.lower()
    cut = low.rfind("/providers/")
    if cut < 0:
        return None
    scope, rest = path[:cut], path[cut + len("/providers/"):].split("/")
    if len(rest) < 2:
        return None
    namespace, tail = rest[0], rest[1:]
    types, names = tail[0::2], tail[1::2]
    collection = len(types) > len(names)
    parent = scope + "/providers/" + "/".join([namespace, *tail[:-2 if not collection else -1]]) \
        if len(types) > 1 else scope
    sub = _SUB.match(path)
    return Target(path=path, type_name="/".join([namespace, *types]), name="" if collection else names[-1],
                  parent=parent, subscription=sub["sub"] if sub else "", nested=len(types) > 1,
                  collection=collection)


def _group_target(path: str, sub: str, rg: str | None) -> Target:
    canonical = f"/subscriptions/{sub}/resourceGroups" + (f"/{rg}" if rg else "")
    return Target(path=canonical, type_name=RG_TYPE, name=rg or "", parent=f"/subscriptions/{sub}",
                  subscription=sub, nested=False, collection=rg is None)


def group_of(resource_id: str) -> str | None:
    """`/subscriptions/{s}/resourceGroups/{rg}` of any id inside a group, else None."""
    found = _RG.match(clean(resource_id))
    if not found or not found["rg"]:
        return None
    return f"/subscriptions/{found['sub']}/resourceGroups/{found['rg']}"


def subscription_of(resource_id: str) -> str:
    found = _SUB.match(clean(resource_id))
    return found["sub"] if found else ""


def is_subscription(resource_id: str) -> bool:
    return _SUB.fullmatch(clean(resource_id)) is not None
