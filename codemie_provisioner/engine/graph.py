"""The resource graph the walker runs: networkx DiGraph, dependency -> dependant, plus exports.

Why: the walker, targeted runs and `graph` output all need the same graph. Its edges are defined once, in
spec/deps.py (which the loader also uses to refuse cycles); this module adds the views on it: the subgraph
a set of targets needs, and DOT / Mermaid text with nodes grouped by phase.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from ..errors import ProvisionerError
from ..spec import Deployment, dependency_graph


def build_graph(deployment: Deployment) -> nx.DiGraph:
    """Node per resource address (attribute "spec"), edge dep -> dependant; refuses a cycle (SpecError)."""
    return dependency_graph(deployment)


def subgraph_for_targets(g: nx.DiGraph, targets: Iterable[str]) -> nx.DiGraph:
    """The targets plus everything they need, transitively. A target may also name a for_each resource's
    declared key (e.g. `subnets`) to mean all its instances."""
    wanted: set[str] = set()
    for target in targets:
        matches = [n for n in g if n == target or g.nodes[n]["spec"].declared == target]
        if not matches:
            raise ProvisionerError(f"unknown target '{target}': no resource has that address")
        for node in matches:
            wanted |= {node, *nx.ancestors(g, node)}
    return g.subgraph(wanted).copy()


def _phases(g: nx.DiGraph) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for node in g:
        groups.setdefault(g.nodes[node]["spec"].phase, []).append(node)
    return groups


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: nx.DiGraph, name: str = "deployment") -> str:
    """Graphviz DOT: one cluster per phase, nodes labelled 'address\\nkind'."""
    lines = [f"digraph {_dot_quote(name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for i, (phase, nodes) in enumerate(_phases(g).items()):
        lines += [f"  subgraph cluster_{i} {{", f"    label={_dot_quote(phase)};"]
        for node in nodes:
            label = _dot_quote(f"{node}\n{g.nodes[node]['spec'].kind}").replace("\n", "\\n")
            lines.append(f"    {_dot_quote(node)} [label={label}];")
        lines.append("  }")
    lines += [f"  {_dot_quote(u)} -> {_dot_quote(v)};" for u, v in g.edges]
    return "\n".join([*lines, "}"]) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(g: nx.DiGraph) -> str:
    """Mermaid flowchart: one subgraph per phase, nodes labelled 'address<br/>kind'."""
    ids = {node: f"n{i}" for i, node in enumerate(g)}
    lines = ["flowchart LR"]
    for i, (phase, nodes) in enumerate(_phases(g).items()):
        lines.append(f'  subgraph phase{i}["{_mermaid_text(phase)}"]')
        for node in nodes:
            kind = g.nodes[node]["spec"].kind
            lines.append(f'    {ids[node]}["{_mermaid_text(node)}<br/>{kind}"]')
        lines.append("  end")
    lines += [f"  {ids[u]} --> {ids[v]}" for u, v in g.edges]
    return "\n".join(lines) + "\n"
