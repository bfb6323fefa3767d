"""The walker runs in dependency order, in parallel, honours lock keys and skips downstream of failures."""

import threading
import time

import networkx as nx

from codemie_provisioner.engine.walker import Walker


def chain_graph():
    g = nx.DiGraph()
    g.add_edges_from([("rg", "vnet"), ("vnet", "s1"), ("vnet", "s2"), ("vnet", "s3"), ("rg", "kv"),
                      ("s1", "aks"), ("kv", "secret")])
    return g


def test_dependency_order_and_all_done():
    order = []
    mu = threading.Lock()

    def work(n):
        with mu:
            order.append(n)

    result = Walker(chain_graph(), work, parallelism=4).run()
    assert result.ok and set(result.done) == set(chain_graph().nodes)
    for a, b in chain_graph().edges:
        assert order.index(a) < order.index(b)


def test_lock_keys_serialize_siblings():
    active, peak = [0], [0]
    mu = threading.Lock()

    def work(n):
        with mu:
            if n.startswith("s"):
                active[0] += 1
                peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with mu:
            if n.startswith("s"):
                active[0] -= 1

    keys = lambda n: ["vnet"] if n.startswith("s") else []  # noqa: E731
    assert Walker(chain_graph(), work, parallelism=8, lock_keys=keys).run().ok
    assert peak[0] == 1


def test_parallel_branches_overlap():
    g = nx.DiGraph()
    g.add_nodes_from(["a", "b", "c"])
    barrier = threading.Barrier(3, timeout=5)
    assert Walker(g, lambda n: barrier.wait(), parallelism=3).run().ok


def test_failure_skips_only_descendants():
    skipped = {}

    def work(n):
        if n == "vnet":
            raise RuntimeError("boom")

    result = Walker(chain_graph(), work, parallelism=2,
                    on_skip=lambda n, why: skipped.__setitem__(n, why)).run()
    assert set(result.failed) == {"vnet"}
    assert set(result.skipped) == {"s1", "s2", "s3", "aks"}
    assert skipped["aks"] == "upstream failed: vnet"
    assert {"rg", "kv", "secret"} <= set(result.done)


def test_longest_remaining_path_goes_first():
    from codemie_provisioner.engine.walker import remaining_path

    g = nx.DiGraph()
    g.add_edges_from([("vnet", "quick1"), ("vnet", "quick2"), ("vnet", "bastion_subnet"),
                      ("bastion_subnet", "bastion")])
    weight = {"vnet": 5, "quick1": 5, "quick2": 5, "bastion_subnet": 7, "bastion": 1800}.__getitem__
    longest = remaining_path(g, weight)
    assert longest["vnet"] == 1812 and longest["bastion_subnet"] == 1807
    order = []
    Walker(g, order.append, parallelism=1, priority=longest.__getitem__).run()
    assert order[:3] == ["vnet", "bastion_subnet", "bastion"]
