"""Wall time of the full reference deployment against its critical-path lower bound.

Why: "how long does a CodeMie deployment take" has a floor set by Azure, not by us: the longest chain of
dependent operations, each as slow as Azure makes it, and the writes Azure serializes on one parent (all subnets
of a VNet, all pools of a cluster, all deployments of an OpenAI account). This script computes that floor from
the spec's graph and the sandbox's realistic durations, then applies the whole spec in a fresh sandbox at the
same time scale and reports how close the engine gets (wall / bound), plus the converged re-apply (no writes).

Run: `python benchmarks/deployment.py [--time-scale 0.01] [--parallelism 8] [--repeat 2] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx

from codemie_provisioner import Recorder, Session
from codemie_provisioner import events as ev
from codemie_provisioner.engine.graph import build_graph
from codemie_provisioner.engine.kinds import KINDS
from codemie_provisioner.sandbox import Profile, Sandbox, model, types

SPEC = Path(__file__).resolve().parents[1] / "specs" / "codemie.yaml"


# ---- the bound -------------------------------------------------------------------------------------------

def node_weights(g: nx.DiGraph, profile: Profile) -> dict[str, float]:
    """Sandbox seconds each resource's create takes (0 when its type has no duration class)."""
    types.load_all()
    weights = {}
    for node in g:
        rt = model.lookup(KINDS[g.nodes[node]["spec"].kind].arm_type)
        weights[node] = profile.duration(rt.duration if rt else None)
    return weights


def longest_paths(g: nx.DiGraph, w: dict[str, float]) -> tuple[dict[str, float], dict[str, float], dict]:
    """For every node: the longest weighted path ending at it (inclusive), the longest starting at it
    (inclusive), and the predecessor on the former (to name the path)."""
    order = list(nx.topological_sort(g))
    to, best_pred = {}, {}
    for n in order:
        pred = max(g.predecessors(n), key=lambda p: to[p], default=None)
        to[n] = w[n] + (to[pred] if pred is not None else 0.0)
        best_pred[n] = pred
    frm = {}
    for n in reversed(order):
        frm[n] = w[n] + max((frm[s] for s in g.successors(n)), default=0.0)
    return to, frm, best_pred


def critical_path(g: nx.DiGraph, w: dict[str, float]) -> tuple[float, list[str]]:
    """The longest weighted path through the DAG and its nodes, first to last."""
    to, _, pred = longest_paths(g, w)
    node = max(to, key=to.get)
    path = []
    while node is not None:
        path.append(node)
        node = pred[node]
    return to[path[0]], path[::-1]


def serialization_bound(g: nx.DiGraph, w: dict[str, float], groups: dict[str, list[str]]) -> tuple[float, str, list]:
    """Writes sharing a lock key run one after another: the earliest any of them can start, plus all their
    durations, plus the shortest tail any of them can be followed by. The largest such bound over all keys."""
    to, frm, _ = longest_paths(g, w)
    best = (0.0, "", [])
    for key, members in groups.items():
        head = min(to[m] - w[m] for m in members)
        tail = min(frm[m] - w[m] for m in members)
        bound = head + sum(w[m] for m in members) + tail
        if bound > best[0]:
            best = (bound, key, sorted(members))
    return best


def lock_groups(session: Session) -> dict[str, list[str]]:
    """Lock key -> addresses whose writes the engine serializes on it (the kinds table's `lock` facts and lock
    hooks, which mirror Azure's parent locks). Keys held by a single resource serialize nothing."""
    eng = session.engine
    groups: dict[str, list[str]] = {}
    for address in eng.specs:
        for key in set(eng.lock_keys(address)):
            groups.setdefault(key, []).append(address)
    return {k: v for k, v in groups.items() if len(v) > 1}


# ---- the runs --------------------------------------------------------------------------------------------

def timed_apply(session: Session, box: Sandbox, rec: Recorder, path: list[dict]) -> dict:
    """One apply: wall time, requests and writes it caused, retries, who finished last, and when each node of
    the critical `path` started compared with the earliest it could have (its slack lost to the engine)."""
    box.clear_requests()
    rec.events.clear()
    started = time.perf_counter()
    result = session.apply()
    wall = time.perf_counter() - started
    requests = box.requests()
    writes = [r for r in requests if r["write"]]
    first_event = min((e.ts for e in rec.events), default=0.0)
    done = sorted(rec.of(ev.ResourceDone), key=lambda e: e.ts)
    started_at = {}
    for e in rec.of(ev.ResourceStarted):
        started_at.setdefault(e.address, e.ts - first_event)
    return {
        "ok": result.ok, "counts": dict(result.counts), "wall_s": wall, "requests": len(requests),
        "writes": len(writes), "writes_by_method": dict(Counter(r["method"] for r in writes)),
        "statuses_4xx_5xx": dict(Counter(str(r["status"]) for r in requests if r["status"] >= 400)),
        "retries": dict(Counter(e.code for e in rec.of(ev.ResourceRetry))),
        "first_event_to_last_write_s": (max(r["ts"] for r in writes) - first_event) if writes else 0.0,
        "finished_last": [{"address": e.address, "elapsed_s": round(e.elapsed_s, 3)} for e in done[-3:][::-1]],
        "critical_path_starts": [{"address": p["address"], "earliest_s": round(p["earliest_s"], 3),
                                  "started_s": round(started_at[p["address"]], 3) if p["address"] in started_at
                                  else None} for p in path],
    }


def one_run(args: argparse.Namespace, profile: Profile, bounds: dict) -> dict:
    """Fresh in-memory sandbox: full apply, then the converged re-apply. Fills `bounds` on first use."""
    rec = Recorder()
    with Sandbox(profile) as box, tempfile.TemporaryDirectory() as tmp, \
            Session(SPEC, sandbox=box, state_dir=tmp, sink=rec, parallelism=args.parallelism) as s:
        if not bounds:
            bounds.update(compute_bounds(s, profile))
        first = timed_apply(s, box, rec, bounds["critical_path"])
        second = timed_apply(s, box, rec, [])
    return {"resources": len(s.deployment.resources), "apply": first, "reapply": second}


def compute_bounds(session: Session, profile: Profile) -> dict:
    """Both bounds for the session's deployment (seconds on the sandbox clock and realistic minutes)."""
    g = build_graph(session.deployment)
    w = node_weights(g, profile)
    length, path = critical_path(g, w)
    earliest = dict(zip(path, [0.0, *accumulate(w[n] for n in path)], strict=False))
    serial, key, members = serialization_bound(g, w, lock_groups(session))
    scale = profile.time_scale or 1.0
    return {"critical_path_s": length, "critical_path_min": length / scale / 60,
            "critical_path": [{"address": n, "s": w[n], "earliest_s": earliest[n]} for n in path],
            "serialization_bound_s": serial, "serialization_min": serial / scale / 60,
            "serialization_key": key, "serialization_members": members,
            "lower_bound_s": max(length, serial), "total_work_s": sum(w.values())}


# ---- output ----------------------------------------------------------------------------------------------

def summary(args: argparse.Namespace, b: dict, runs: list[dict]) -> str:
    walls = ", ".join(f"{r['apply']['wall_s']:.1f} s" for r in runs)
    ratios = ", ".join(f"{r['apply']['wall_s'] / b['lower_bound_s']:.2f}" for r in runs)
    re_walls = ", ".join(f"{r['reapply']['wall_s']:.2f} s" for r in runs)
    re_writes = ", ".join(str(r["reapply"]["writes"]) for r in runs)
    return (f"The reference deployment ({runs[0]['resources']} resources) applies in the sandbox under the realistic "
            f"profile at time scale {args.time_scale:g} in {walls} (parallelism {args.parallelism}), against a "
            f"lower bound of {b['lower_bound_s']:.1f} s ({b['lower_bound_s'] / args.time_scale / 60:.1f} realistic "
            f"minutes; the critical path runs {' -> '.join(p['address'] for p in b['critical_path'])}): wall/bound "
            f"= {ratios}. Re-applying the converged deployment takes {re_walls} with {re_writes} writes.")


def print_text(args: argparse.Namespace, b: dict, runs: list[dict]) -> None:
    print(f"critical path at time scale {args.time_scale:g}: {b['critical_path_s']:.2f} sandbox s "
          f"= {b['critical_path_min']:.1f} realistic min")
    print("  " + " -> ".join(f"{p['address']} ({p['s']:g})" for p in b["critical_path"]))
    print(f"serialization bound: {b['serialization_bound_s']:.2f} s = {b['serialization_min']:.1f} min "
          f"(lock {b['serialization_key'].rsplit('/', 1)[-1]}: {len(b['serialization_members'])} writes)")
    print(f"lower bound: {b['lower_bound_s']:.2f} s; total work {b['total_work_s']:.1f} s")
    for i, r in enumerate(runs, 1):
        a, re_ = r["apply"], r["reapply"]
        print(f"run {i}: {r['resources']} resources, apply ok={a['ok']} wall {a['wall_s']:.2f} s, "
              f"wall/bound {a['wall_s'] / b['lower_bound_s']:.2f}, first event -> last write "
              f"{a['first_event_to_last_write_s']:.2f} s, {a['requests']} requests ({a['writes']} writes "
              f"{a['writes_by_method']}), 4xx/5xx {a['statuses_4xx_5xx']}, retries {a['retries']}")
        print("  critical path started at (earliest possible): " + ", ".join(
            f"{x['address']} {x['started_s']} s ({x['earliest_s']} s)" for x in a["critical_path_starts"]))
        print("  finished last: " + ", ".join(f"{x['address']} ({x['elapsed_s']} s)" for x in a["finished_last"]))
        print(f"  re-apply: ok={re_['ok']} wall {re_['wall_s']:.2f} s, {re_['requests']} requests, "
              f"{re_['writes']} writes {re_['writes_by_method']}")
    print()
    print(summary(args, b, runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.01)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of text")
    args = parser.parse_args()
    profile = Profile.named("realistic", time_scale=args.time_scale)
    bounds: dict = {}
    runs = [one_run(args, profile, bounds) for _ in range(args.repeat)]
    if args.json:
        print(json.dumps({"time_scale": args.time_scale, "parallelism": args.parallelism, "bounds": bounds,
                          "runs": runs, "summary": summary(args, bounds, runs)}, indent=2))
    else:
        print_text(args, bounds, runs)


if __name__ == "__main__":
    main()
