"""Which resource needs which: the dependency graph, and the one place a cycle is turned into an error.

Why: both the loader (to refuse a spec early) and the engine's walker (engine/graph.py) need the same graph;
building it here, next to the model, keeps one definition of "depends on": parent, resource group, scope,
every `${ref...}` in the name or body, `depends_on`, and the vault of every generated secret used.
"""

from __future__ import annotations

import networkx as nx

from ..errors import SpecError
from .markers import Ref, SecretRef, iter_markers
from .model import Deployment, ResourceSpec, SecretSpec


def references(res: ResourceSpec, secrets: dict[str, SecretSpec]) -> list[str]:
    """Addresses `res` needs before it can be applied (in a stable order, without duplicates)."""
    found = [a for a in (res.parent, res.resource_group, res.scope) if a]
    for marker in iter_markers([res.name, res.parent_id, res.resource_group_name, res.scope_id, res.body]):
        if isinstance(marker, Ref):
            found.append(marker.address)
        elif isinstance(marker, SecretRef) and marker.name in secrets and secrets[marker.name].vault:
            found.append(secrets[marker.name].vault or "")
    found += res.depends_on
    return list(dict.fromkeys(found))


def dependency_graph(deployment: Deployment) -> nx.DiGraph:
    """Edges point from a dependency to its dependant; node attribute "spec" holds the ResourceSpec."""
    g = nx.DiGraph()
    for res in deployment.resources:
        g.add_node(res.address, spec=res)
    for res in deployment.resources:
        for dep in references(res, deployment.secrets):
            g.add_edge(dep, res.address)
    check_acyclic(g, deployment)
    return g


def check_acyclic(g: nx.DiGraph, deployment: Deployment) -> None:
    """Refuse a cycle, named in "needs" order and starting at the resource declared first."""
    try:
        edges = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    needs = [v for _, v in edges][::-1]           # edges run dep -> dependant; read them backwards
    order = {a: i for i, a in enumerate(deployment.addresses)}
    start = min(range(len(needs)), key=lambda i: order.get(needs[i], len(order)))
    needs = needs[start:] + needs[:start]
    first = deployment.resource(needs[0])
    phase = next(i for i, p in enumerate(deployment.phases) if p.name == first.phase)
    chain = " -> ".join([*needs, needs[0]])
    raise SpecError(first.source.file, first.source.line, f"phases[{phase}].resources.{first.declared}",
                    f"dependency cycle: {chain} (each needs the next)")
