"""The resource graph (engine/graph.py): edges from every kind of reference, targets, DOT and Mermaid."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from codemie_provisioner.engine.graph import build_graph, subgraph_for_targets, to_dot, to_mermaid
from codemie_provisioner.errors import ProvisionerError, SpecError
from codemie_provisioner.spec import Deployment, Phase, ResourceSpec, SourceLine, load_spec


@pytest.fixture
def graph(full_spec, kinds) -> nx.DiGraph:
    return build_graph(load_spec(full_spec, {}, {}, kinds=kinds))


def test_edges_come_from_every_kind_of_reference(graph):
    edges = set(graph.edges)
    assert ("rg", "aks_vnet") in edges                              # resource_group
    assert ("aks_vnet", 'subnets["UserSubnet"]') in edges           # parent
    assert ("kv", "kv_crypto") in edges                             # scope
    assert ("api_identity", "kv_crypto") in edges                   # ref in name and body
    assert ('subnets["SystemSubnet"]', "pools[0]") in edges         # depends_on
    assert ('subnets["UserSubnet"]', "pe") in edges                 # ref inside properties
    assert ("kv", "pe") in edges                                    # ref in name, secret vault
    assert ("api_identity", "aks") in edges                         # ref as a map key (identity)
    assert not any(v == "state_rg" for _, v in edges)
    assert graph.nodes["pe"]["spec"].kind == "private_endpoint"
    assert nx.is_directed_acyclic_graph(graph)


def test_subgraph_for_targets_takes_everything_needed(graph):
    assert set(subgraph_for_targets(graph, ["kv_crypto"])) == {"kv_crypto", "kv", "api_identity", "rg"}
    by_key = subgraph_for_targets(graph, ["subnets"])
    assert set(by_key) == {'subnets["SystemSubnet"]', 'subnets["UserSubnet"]', "aks_vnet", "rg"}
    assert set(by_key.edges) == {("rg", "aks_vnet"), ("aks_vnet", 'subnets["SystemSubnet"]'),
                                 ("aks_vnet", 'subnets["UserSubnet"]')}
    with pytest.raises(ProvisionerError, match="unknown target 'nope'"):
        subgraph_for_targets(graph, ["nope"])


def test_build_graph_refuses_a_cycle_with_its_name():
    def res(address, depends_on, line):
        return ResourceSpec(address, "p", "user_identity", address, {}, SourceLine("x.yaml", line),
                            declared=address, depends_on=depends_on)
    resources = (res("a", ("c",), 3), res("b", ("a",), 5), res("c", ("b",), 7), res("d", (), 9))
    deployment = Deployment("d", "x.yaml", {}, (Phase("p", ("a", "b", "c", "d")),), resources)
    with pytest.raises(SpecError) as info:
        build_graph(deployment)
    assert str(info.value) == "x.yaml:3: phases[0].resources.a: dependency cycle: a -> c -> b -> a (each needs the next)"


DOT_NODE = re.compile(r'^\s+("(?:[^"\\]|\\.)*") \[label="(?:[^"\\]|\\.)*"\];$')
DOT_EDGE = re.compile(r'^\s+("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*");$')


def test_dot_output_is_well_formed(graph):
    text = to_dot(graph)
    lines = text.splitlines()
    assert lines[0] == 'digraph "deployment" {' and lines[-1] == "}"
    assert text.count("{") == text.count("}")
    assert len([ln for ln in lines if "subgraph cluster_" in ln]) == 2
    nodes = [DOT_NODE.match(ln)[1] for ln in lines if DOT_NODE.match(ln)]
    edges = [DOT_EDGE.match(ln).groups() for ln in lines if DOT_EDGE.match(ln)]
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    assert {e for pair in edges for e in pair} <= set(nodes)
    assert '"subnets[\\"UserSubnet\\"]"' in nodes


def test_dot_parses_with_pydot(graph):
    import pydot

    parsed = nx.nx_pydot.from_pydot(pydot.graph_from_dot_data(to_dot(graph))[0])
    assert parsed.number_of_edges() == graph.number_of_edges()


def test_mermaid_output_is_well_formed(graph):
    lines = to_mermaid(graph).splitlines()
    assert lines[0] == "flowchart LR"
    assert sum(ln.strip().startswith("subgraph ") for ln in lines) == 2
    assert sum(ln.strip() == "end" for ln in lines) == 2
    declared = dict(re.findall(r'^\s+(n\d+)\["([^"]*)"\]$', "\n".join(lines), re.M))
    assert len(declared) == graph.number_of_nodes()
    assert declared[next(k for k, v in declared.items() if v.startswith("pe<"))] == "pe<br/>private_endpoint"
    assert "subnets[#quot;UserSubnet#quot;]<br/>subnet" in declared.values()
    edges = re.findall(r"^\s+(n\d+) --> (n\d+)$", "\n".join(lines), re.M)
    assert len(edges) == graph.number_of_edges() and {n for e in edges for n in e} <= set(declared)
