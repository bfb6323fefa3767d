"""Checkpoints: claim before act, and coalesced snapshot writes during a run.

Why: a process killed between "PUT sent" and "state written" orphans a resource in every tool that writes state
only at the end (peer-lessons §3). Here the intent is durable *before* the PUT: `claim()` returns only once a
snapshot holding the pending record is stored, so a rerun finds the claim, observes Azure and adopts or deletes.
Claims from parallel workers share one write (a worker whose claim was carried by someone else's write does
not write again); completions are written at most every `interval_s` and always at the end.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any


class Checkpointer:
    """Holds the run's working document and writes it through the state store."""

    def __init__(self, store: Any, base: dict | None, *, lineage: str, spec_hash: str, tool_version: str,
                 created_by: dict, interval_s: float = 1.0, lock: Any = None):
        self.store = store
        self.lock = lock
        self.doc = _start_doc(base, lineage, spec_hash, tool_version, created_by)
        self.serial = base["serial"] if base else None
        self.interval_s = interval_s
        self._mu = threading.Lock()
        self._write_mu = threading.Lock()
        self._gen = 0
        self._flushed_gen = 0
        self._changed = base is None
        self._last_flush = 0.0

    def record(self, address: str) -> dict | None:
        with self._mu:
            rec = self.doc["resources"].get(address)
            return copy.deepcopy(rec) if rec else None

    def records(self) -> dict[str, dict]:
        with self._mu:
            return copy.deepcopy(self.doc["resources"])

    def claim(self, address: str, record: dict) -> None:
        """Durably record an operation about to start (blocks until written)."""
        self._set(address, {**record, "status": "pending"})
        self.flush("checkpoint")

    def commit(self, address: str, record: dict | None) -> None:
        """Record an outcome (None removes the record); written soon, and surely at the end."""
        self._set(address, record)
        if time.monotonic() - self._last_flush >= self.interval_s:
            self.flush("checkpoint")

    def set_outputs(self, outputs: dict) -> None:
        with self._mu:
            if self.doc.get("outputs") != outputs:
                self.doc["outputs"] = outputs
                self._gen += 1
                self._changed = True

    def _set(self, address: str, record: dict | None) -> None:
        with self._mu:
            if self.doc["resources"].get(address) == record:
                return                                  # nothing new: no write, no snapshot
            if record is None:
                self.doc["resources"].pop(address, None)
            else:
                self.doc["resources"][address] = record
            self._gen += 1
            self._changed = True

    def flush(self, reason: str) -> None:
        with self._mu:
            wanted = self._gen
        with self._write_mu:
            if self._flushed_gen >= wanted and (reason == "checkpoint" or not self._changed):
                return
            with self._mu:
                doc = copy.deepcopy(self.doc)
                gen = self._gen
            doc["reason"] = reason
            doc["pending"] = [a for a, r in doc["resources"].items() if r.get("status") == "pending"]
            if self.lock is not None and hasattr(self.lock, "check"):
                self.lock.check()
            written = self.store.write(doc, expect_serial=self.serial)
            self.serial = _serial_of(written)
            self._flushed_gen = gen
            self._last_flush = time.monotonic()


def _serial_of(written: Any) -> int:
    if isinstance(written, dict):
        return written["serial"]
    return written.serial


def _start_doc(base: dict | None, lineage: str, spec_hash: str, tool_version: str, created_by: dict) -> dict:
    doc = copy.deepcopy(base) if base else {"resources": {}, "outputs": {}}
    doc.update({"lineage": lineage, "spec_hash": spec_hash, "tool_version": tool_version,
                "created_by": created_by})
    doc.setdefault("resources", {})
    doc.setdefault("outputs", {})
    return doc
