"""The walker: runs work over a dependency graph, in parallel where Azure allows.

Why: independent branches (Bastion, AKS, PostgreSQL) take tens of minutes each, so they must run side by
side, while some Azure parents accept one write at a time (subnets on a VNet, pools on a cluster, model
deployments on an OpenAI account). The walker keeps both rules by construction rather than by retries: a node
is dispatched when all its predecessors succeeded, a worker is free, and none of its lock keys is held by a
running node. Among ready nodes, the one with the longest remaining path (by `priority`) goes first, so a
30-minute Bastion never waits behind a queue of quick resources. A failure marks every descendant "skipped:
upstream failed" while unrelated branches go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import networkx as nx

Node = Hashable


@dataclass
class WalkResult:
    done: list[Node] = field(default_factory=list)
    failed: dict[Node, BaseException] = field(default_factory=dict)
    skipped: dict[Node, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


class Walker:
    """Walk `graph` (edges: dependency -> dependant) calling `work(node)` on a bounded pool."""

    def __init__(self, graph: nx.DiGraph, work: Callable[[Node], object], *, parallelism: int = 8,
                 lock_keys: Callable[[Node], Iterable[str]] | None = None,
                 on_skip: Callable[[Node, str], None] | None = None,
                 priority: Callable[[Node], float] | None = None,
                 stop: threading.Event | None = None):
        self.graph = graph
        self.work = work
        self.parallelism = max(1, parallelism)
        self.lock_keys = lock_keys or (lambda _n: ())
        self.on_skip = on_skip or (lambda _n, _r: None)
        self.priority = priority or (lambda _n: 0.0)
        self.stop = stop or threading.Event()

    def run(self) -> WalkResult:
        result = WalkResult()
        waiting = {n: self.graph.in_degree(n) for n in self.graph.nodes}
        ready = [n for n, deg in waiting.items() if deg == 0]
        running: dict[Future, tuple[Node, set[str]]] = {}
        held: set[str] = set()
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="walk") as pool:
            while ready or running:
                self._dispatch(pool, ready, running, held)
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    node, keys = running.pop(fut)
                    held.difference_update(keys)
                    self._settle(node, fut, result, waiting, ready)
        for node in ready:
            self._skip(node, "stopped before it started", result)
        return result

    def _dispatch(self, pool, ready: list, running: dict, held: set[str]) -> None:
        ready.sort(key=self.priority, reverse=True)
        for node in list(ready):
            if len(running) >= self.parallelism or self.stop.is_set():
                return
            keys = {str(k) for k in self.lock_keys(node)}
            if keys & held:
                continue
            ready.remove(node)
            held.update(keys)
            running[pool.submit(self.work, node)] = (node, keys)

    def _settle(self, node: Node, fut: Future, result: WalkResult, waiting: dict, ready: list) -> None:
        error = fut.exception()
        if error is not None:
            result.failed[node] = error
            for down in nx.descendants(self.graph, node):
                if down not in result.skipped and down not in result.failed:
                    self._skip(down, f"upstream failed: {node}", result)
                    if down in ready:
                        ready.remove(down)
            return
        result.done.append(node)
        for succ in self.graph.successors(node):
            waiting[succ] -= 1
            if waiting[succ] == 0 and succ not in result.skipped:
                ready.append(succ)

    def _skip(self, node: Node, reason: str, result: WalkResult) -> None:
        result.skipped[node] = reason
        self.on_skip(node, reason)


def remaining_path(graph: nx.DiGraph, weight: Callable[[Node], float]) -> dict[Node, float]:
    """For each node, its own weight plus the heaviest path after it (the walker's priority)."""
    out: dict[Node, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        out[node] = weight(node) + max((out[s] for s in graph.successors(node)), default=0.0)
    return out
