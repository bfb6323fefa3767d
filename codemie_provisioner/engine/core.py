"""The engine: plan, apply, drift and destroy over the resource graph.

Why: this is the one place where the parts meet. The spec gives the graph, the kinds table and the gateway give
observe / put / delete, the pure diff decides, the walker runs the graph in parallel under Azure's per-parent
rules, the retry budget owns Azure-level retries, the checkpointer makes every intent durable before the PUT,
and every step is reported as an event. The same `_decide` serves `plan` and `apply`, so a plan shows what
apply would do.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .. import events as ev
from .._version import __version__
from ..errors import ProvisionerError
from . import bodies
from .checkpoint import Checkpointer
from .diff import MISSING, Change, FieldChange, decide, dotted, get_path, strip_write_only
from .drift import DriftItem, find_drift
from .gateway import TERMINAL, Gateway, Target
from .hooks import LOCK_HOOKS, OBSERVE_HOOKS, PREPARE_HOOKS
from .ids import ancestor_id
from .kinds import KINDS, Kind
from .outputs import compute_outputs
from .plan import Plan, PlannedChange
from .resolve import Resolver
from .retry import RetryBudget, classify, failure_of
from .walker import Walker, remaining_path


class ResourceError(ProvisionerError):
    """One resource failed; carries Azure's code and message."""

    def __init__(self, address: str, code: str, message: str):
        super().__init__(f"{address}: {code}: {message}")
        self.address, self.code, self.message = address, code, message


class PlanStale(ProvisionerError):
    """A saved plan was made against another state or spec."""


@dataclass
class RunResult:
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    serial: int | None = None


def who(operation: str) -> dict[str, Any]:
    return {"user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
            "operation": operation, "tool_version": __version__}


class Engine:
    """Runs one deployment against one target with one state store."""

    def __init__(self, deployment: Any, target: Target, store: Any, *, sink: ev.EventSink = ev.null_sink,
                 parallelism: int = 8, graph: nx.DiGraph | None = None, secrets: Any = None):
        from .graph import build_graph

        self.deployment = deployment
        self.target = target
        self.store = store
        self.sink = sink
        self.parallelism = parallelism
        self.graph = graph if graph is not None else build_graph(deployment)
        self.specs = {n: self.graph.nodes[n]["spec"] for n in self.graph.nodes}
        self.gw = Gateway(target)
        self.secrets = secrets
        target.gate.on_throttle = lambda s: self.sink(ev.Message(
            "warning", f"Azure is throttling this subscription: every request waits {s:.1f} s"))
        self._sleep = time.sleep

    # ---- shared steps -------------------------------------------------------------------------------
    def _graph_for(self, targets: list[str] | None) -> nx.DiGraph:
        if not targets:
            return self.graph
        from .graph import subgraph_for_targets

        return subgraph_for_targets(self.graph, targets)

    def _resolver(self) -> Resolver:
        value = self.secrets.value if self.secrets is not None else None
        return Resolver(self.specs, self.target.subscription_id, tenant_id=self.target.tenant_id,
                        secret_value=value)

    def _observe(self, k: Kind, rid: str, desired: dict | None) -> tuple[str, dict | None]:
        for hook in k.hooks:
            if hook in OBSERVE_HOOKS:
                found = OBSERVE_HOOKS[hook](self.gw, k, rid, desired or {})
                return found if found else (rid, None)
        return rid, self.gw.observe(k, rid)

    def _settled(self, k: Kind, rid: str, observed: dict | None) -> dict | None:
        state = str((observed or {}).get("properties", {}).get("provisioningState", "Succeeded")).lower()
        return observed if state in TERMINAL else self.gw.wait_settled(k, rid)

    def _decide(self, address: str, resolver: Resolver, record: dict | None) -> tuple[Kind, str, dict, Change, Any]:
        spec = self.specs[address]
        k = KINDS[spec.kind]
        rid = (record or {}).get("id") or resolver.id_of(address)
        plain = bodies.without_secrets(resolver, spec)
        rid, observed = self._observe(k, rid, plain.body)
        observed = self._settled(k, rid, observed)
        if observed is not None:
            resolver.observed[address] = observed
        change = decide(bodies.known(plain), observed, k)
        if observed is not None and plain.unknown and change.action == "noop":
            change = Change("update", [FieldChange(dotted(p), None, "(known after apply)") for p in plain.unknown])
        return k, rid, plain.body, change, observed

    def lock_keys(self, address: str) -> list[str]:
        """The keys of the Azure parents a write of this resource holds (what the walker serializes on)."""
        return self._lock_keys(address, self._resolver())

    def _lock_keys(self, address: str, resolver: Resolver) -> list[str]:
        spec = self.specs[address]
        k = KINDS[spec.kind]
        rid = resolver.id_of(address)
        keys = parent_lock_keys(k, rid)
        for hook in k.hooks:
            if hook in LOCK_HOOKS:
                keys += LOCK_HOOKS[hook](rid, bodies.without_secrets(resolver, spec).body)
        return keys

    # ---- plan ------------------------------------------------------------------------------------------
    def plan(self, targets: list[str] | None = None, destroy: bool = False) -> Plan:
        snap = latest_doc(self.store)
        records = (snap or {}).get("resources", {})
        graph = self._graph_for(targets)
        resolver = self._resolver()
        changes: dict[str, PlannedChange] = {}
        if destroy:
            order = destroy_order(records, targets)
            changes = {a: PlannedChange(a, records[a]["kind"], records[a]["id"], "delete", reason="destroy",
                                        phase=records[a].get("phase", "")) for a in order}
        else:
            with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
                for generation in nx.topological_generations(graph):
                    for pc in pool.map(lambda a: self._plan_one(a, resolver, records.get(a)), generation):
                        changes[pc.address] = pc
            for address in self._orphans(records, targets):
                rec = records[address]
                changes[address] = PlannedChange(address, rec["kind"], rec["id"], "delete",
                                                 reason="not in the spec any more", phase=rec.get("phase", ""))
        plan = Plan(self.deployment.name, (snap or {}).get("lineage"), (snap or {}).get("serial"),
                    self.deployment_hash(), list(changes.values()), destroy, list(targets or []))
        for c in plan.changes:
            self.sink(ev.ResourcePlanned(c.address, c.kind, c.action, c.fields, c.reason))
        return plan

    def _plan_one(self, address: str, resolver: Resolver, record: dict | None) -> PlannedChange:
        k, rid, _body, change, _obs = self._decide(address, resolver, record)
        fields = [fc.to_dict() for fc in change.fields]
        return PlannedChange(address, k.name, rid, change.action, fields, change.reason,
                             getattr(self.specs[address], "phase", ""))

    def _orphans(self, records: dict, targets: list[str] | None) -> list[str]:
        gone = [a for a in records if a not in self.specs]
        if targets:
            gone = [a for a in gone if a in targets]
        return destroy_order({a: records[a] for a in gone}, None)

    def deployment_hash(self) -> str:
        from ..spec import spec_hash

        return spec_hash(self.deployment)

    # ---- apply -----------------------------------------------------------------------------------------
    def apply(self, plan: Plan | None = None, targets: list[str] | None = None, *,
              lock_wait_s: float = 5.0) -> RunResult:
        targets = list(plan.targets) if plan and plan.targets else targets
        started = time.monotonic()
        with self._lock("destroy" if plan and plan.destroy else "apply", lock_wait_s) as lock:
            snap = latest_doc(self.store)
            if plan is not None:
                self._check_plan(plan, snap)
            ck = self._checkpointer(snap, lock)
            if plan is not None and plan.destroy:
                result = self._run_destroy(ck, [c.address for c in plan.changes])
            else:
                result = self._run_apply(ck, targets, plan)
            ck.set_outputs(self._outputs(ck))
            ck.flush("destroy" if plan and plan.destroy else "apply")
            result.serial = ck.serial
        self.sink(ev.RunFinished("apply", result.ok, time.monotonic() - started, result.counts))
        return result

    def destroy(self, targets: list[str] | None = None, *, lock_wait_s: float = 5.0) -> RunResult:
        started = time.monotonic()
        with self._lock("destroy", lock_wait_s) as lock:
            snap = latest_doc(self.store)
            ck = self._checkpointer(snap, lock)
            order = destroy_order((snap or {}).get("resources", {}), targets)
            result = self._run_destroy(ck, order)
            ck.set_outputs({} if not ck.records() else self._outputs(ck))
            ck.flush("destroy")
            result.serial = ck.serial
        self.sink(ev.RunFinished("destroy", result.ok, time.monotonic() - started, result.counts))
        return result

    def _lock(self, operation: str, wait_s: float):
        """The state lock; while another holder has it, say who (the store raises LockHeld after wait_s)."""
        return self.store.lock(who(operation), wait=wait_s,
                               on_wait=lambda status: self.sink(ev.LockWaiting(str(status.holder))))

    def _checkpointer(self, snap: dict | None, lock: Any) -> Checkpointer:
        lineage = (snap or {}).get("lineage") or str(uuid.uuid4())
        return Checkpointer(self.store, snap, lineage=lineage, spec_hash=self.deployment_hash(),
                            tool_version=__version__, created_by=who("apply"), lock=lock)

    def _check_plan(self, plan: Plan, snap: dict | None) -> None:
        lineage, serial = (snap or {}).get("lineage"), (snap or {}).get("serial")
        if plan.lineage != lineage or plan.base_serial != serial:
            raise PlanStale(f"the plan was made against state serial {plan.base_serial} but the state is now at "
                            f"serial {serial}; run plan again")
        if not plan.destroy and plan.spec_hash != self.deployment_hash():
            raise PlanStale("the spec changed since the plan was made; run plan again")

    def _run_apply(self, ck: Checkpointer, targets: list[str] | None, plan: Plan | None) -> RunResult:
        graph = self._graph_for(targets)
        if plan is not None:
            wanted = {c.address for c in plan.changes if c.action != "noop"}
            graph = graph.subgraph([n for n in graph.nodes if n in wanted or _needed(graph, n, wanted)]).copy()
        resolver = self._resolver()
        counts: dict[str, int] = {}
        self.sink(ev.RunStarted("apply", self.deployment.name, graph.number_of_nodes(), self.parallelism))
        longest = remaining_path(graph, lambda a: KINDS[self.specs[a].kind].typical_s)
        walker = Walker(graph, lambda a: self._reconcile(a, resolver, ck, counts),
                        parallelism=self.parallelism, lock_keys=lambda a: self._lock_keys(a, resolver),
                        on_skip=lambda a, why: self.sink(ev.ResourceSkipped(a, self.specs[a].kind, why)),
                        priority=longest.__getitem__)
        walked = walker.run()
        orphans = self._orphans(ck.records(), targets)
        destroyed = self._run_destroy(ck, orphans) if orphans and walked.ok else RunResult(True)
        return _result(walked, counts, destroyed)

    def _reconcile(self, address: str, resolver: Resolver, ck: Checkpointer, counts: dict) -> None:
        started = time.monotonic()
        k, rid, _body, change, observed = self._decide(address, resolver, ck.record(address))
        self.sink(ev.ResourceStarted(address, k.name, change.action))
        try:
            if change.action == "noop":
                final = observed or {}
            else:
                final = self._write(address, k, rid, change, resolver, ck)
        except Exception as exc:
            self._fail(address, k, change.action, exc, started)
            raise
        resolver.observed[address] = final
        ck.commit(address, self._record(address, k, rid, resolver, final))
        counts[change.action] = counts.get(change.action, 0) + 1
        writes = 0 if change.action == "noop" else 1
        self.sink(ev.ResourceDone(address, k.name, change.action, time.monotonic() - started, writes))

    def _write(self, address: str, k: Kind, rid: str, change: Change, resolver: Resolver,
               ck: Checkpointer) -> dict:
        spec = self.specs[address]
        if change.action == "replace":
            ck.claim(address, {"kind": k.name, "id": rid, "op": "replace", "phase": bodies.phase(spec)})
            self._retrying(address, lambda: self.gw.delete(k, rid))
        exists = change.action == "update"
        # An update never sends secret-fed fields, so it must not generate (and store over) a new secret either.
        # A create generates its secrets and stores them in Key Vault here: the same retry owner covers that write.
        resolved = bodies.without_secrets(resolver, spec) if exists else \
            self._retrying(address, lambda: resolver.body(spec))
        if resolved.unknown:
            raise ResourceError(address, "UnknownValue", "values still unknown after their dependencies ran: "
                                + ", ".join(dotted(p) for p in resolved.unknown))
        body = resolved.body
        if not exists:
            for hook in k.hooks:
                if hook in PREPARE_HOOKS:
                    body = PREPARE_HOOKS[hook](self.gw, k, rid, body,
                                               lambda m: self.sink(ev.ResourceProgress(address, m)))
        elif resolved.secret_paths:
            body = bodies.drop(body, bodies.unsent_on_update(k, resolved.secret_paths))
        ck.claim(address, {"kind": k.name, "id": rid, "op": change.action, "phase": bodies.phase(spec),
                           "depends_on": self._deps(address)})
        return self._retrying(address, lambda: self.gw.put(k, rid, body, exists=exists))

    def _retrying(self, address: str, call) -> Any:
        budget = RetryBudget(time_scale=self.target.time_scale)
        while True:
            try:
                return call()
            except Exception as exc:
                failure = failure_of(exc)
                cls = classify(failure)
                delay = budget.next_delay(cls)
                if delay is None:
                    raise ResourceError(address, failure.code, failure.message) from exc
                self.sink(ev.ResourceRetry(address, failure.code, budget.used[cls], delay,
                                           budget.describe(cls, delay)))
                self._sleep(delay)

    def _fail(self, address: str, k: Kind, action: str, exc: Exception, started: float) -> None:
        code, message = (exc.code, exc.message) if isinstance(exc, ResourceError) else \
            (failure_of(exc).code, failure_of(exc).message)
        self.sink(ev.ResourceFailed(address, k.name, action, code, message, time.monotonic() - started))

    def _record(self, address: str, k: Kind, rid: str, resolver: Resolver, final: dict) -> dict:
        spec = self.specs[address]
        plain = bodies.without_secrets(resolver, spec)
        managed = strip_write_only(bodies.known(plain), k)
        outputs = {p: get_path(final, p) for p in k.outputs}
        outputs = {p: v for p, v in outputs.items() if v is not MISSING}
        return {"kind": k.name, "id": final.get("id") or rid, "status": "applied", "managed": managed,
                "outputs": bodies.plain(outputs), "depends_on": self._deps(address), "phase": bodies.phase(spec),
                "secrets": sorted({bodies.secret_name(m) for m in bodies.secret_markers(spec.body)})}

    def _deps(self, address: str) -> list[str]:
        return sorted(self.graph.predecessors(address)) if address in self.graph else []

    # ---- destroy -----------------------------------------------------------------------------------------
    def _run_destroy(self, ck: Checkpointer, order: list[str]) -> RunResult:
        records = ck.records()
        g = nx.DiGraph()
        g.add_nodes_from(a for a in order if a in records)
        for a in g.nodes:
            for dep in records[a].get("depends_on", []):
                if dep in g:
                    g.add_edge(a, dep)          # reversed: dependants go first
        counts: dict[str, int] = {}
        self.sink(ev.RunStarted("destroy", self.deployment.name, g.number_of_nodes(), self.parallelism))
        walker = Walker(g, lambda a: self._delete_one(a, records[a], ck, counts), parallelism=self.parallelism,
                        lock_keys=lambda a: parent_lock_keys(KINDS[records[a]["kind"]], records[a]["id"]),
                        on_skip=lambda a, why: self.sink(ev.ResourceSkipped(a, records[a]["kind"], why)))
        return _result(walker.run(), counts, RunResult(True))

    def _delete_one(self, address: str, record: dict, ck: Checkpointer, counts: dict) -> None:
        k = KINDS[record["kind"]]
        started = time.monotonic()
        self.sink(ev.ResourceStarted(address, k.name, "delete"))
        ck.claim(address, {**record, "op": "delete"})
        try:
            self._retrying(address, lambda: self.gw.delete(k, record["id"]))
        except Exception as exc:
            self._fail(address, k, "delete", exc, started)
            raise
        ck.commit(address, None)
        counts["delete"] = counts.get("delete", 0) + 1
        self.sink(ev.ResourceDone(address, k.name, "delete", time.monotonic() - started, 1))

    # ---- drift -------------------------------------------------------------------------------------------
    def drift(self, targets: list[str] | None = None) -> list[DriftItem]:
        """Live Azure against the last snapshot, on the managed fields only. Never writes."""
        found = find_drift(self.gw, latest_doc(self.store), targets, self.parallelism)
        for d in found:
            self.sink(ev.DriftFound(d.address, d.kind, d.status, d.fields))
        return found

    # ---- outputs -----------------------------------------------------------------------------------------
    def _outputs(self, ck: Checkpointer) -> dict:
        resolver = self._resolver()
        resolver.secret_value = None
        return compute_outputs(self.deployment, resolver, ck.records())


def parent_lock_keys(k: Kind, rid: str) -> list[str]:
    """The Azure parent whose writes this resource's write must not overlap (the kinds table's `lock`)."""
    if k.lock == "self":
        return [rid.lower()]
    if k.lock:
        return [(ancestor_id(rid, KINDS[k.lock].arm_type) or rid).lower()]
    return []


def destroy_order(records: dict, targets: list[str] | None) -> list[str]:
    """Dependants before what they depend on (from each record's depends_on); with targets, only those and
    what depends on them."""
    g = nx.DiGraph()
    g.add_nodes_from(records)
    for address, rec in records.items():
        g.add_edges_from((dep, address) for dep in rec.get("depends_on", []) if dep in records)
    if targets:
        keep = set(targets)
        for t in targets:
            keep |= nx.descendants(g, t) if t in g else set()
        g = g.subgraph(keep).copy()
    return list(reversed(list(nx.topological_sort(g))))


def latest_doc(store: Any) -> dict | None:
    snap = store.latest()
    if snap is None:
        return None
    return snap if isinstance(snap, dict) else snap.to_dict()


def _needed(graph: nx.DiGraph, node: str, wanted: set[str]) -> bool:
    return any(d in wanted for d in nx.descendants(graph, node))


def _result(walked, counts: dict, destroyed: RunResult) -> RunResult:
    failed = {str(n): str(e) for n, e in walked.failed.items()} | destroyed.failed
    skipped = {str(n): r for n, r in walked.skipped.items()} | destroyed.skipped
    merged = dict(counts)
    for key, n in destroyed.counts.items():
        merged[key] = merged.get(key, 0) + n
    return RunResult(ok=not failed and not skipped, counts=merged, failed=failed, skipped=skipped)
