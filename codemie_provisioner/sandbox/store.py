"""Where the sandbox's cloud lives: resources, operations in flight, soft-delete bins and the clock.

Why: separate commands (`sandbox serve`, an engine run with `--sandbox`, a later run) must see one cloud, so with
a data directory every write goes straight to SQLite (which also serialises writers across processes). Without
one the same code runs on an in-memory database, so there is a single implementation to trust.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, parent TEXT, grp TEXT, type TEXT, rec TEXT);
CREATE INDEX IF NOT EXISTS resources_parent ON resources(parent);
CREATE INDEX IF NOT EXISTS resources_grp ON resources(grp);
CREATE INDEX IF NOT EXISTS resources_type ON resources(type);
CREATE TABLE IF NOT EXISTS ops (id TEXT PRIMARY KEY, done INTEGER, rec TEXT);
CREATE INDEX IF NOT EXISTS ops_done ON ops(done);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""


class Store:
    """Resource records keyed by lower-case id. A record is a dict:
    {key, id, type, parent (lower), group (lower or ''), body, created, visible}."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False,
                                  isolation_level=None, timeout=30)
        if path:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ------------------------------------------------------------ resources

    def get(self, key: str) -> dict | None:
        return self._one("SELECT rec FROM resources WHERE key=?", (key.lower(),))

    def put(self, rec: dict) -> None:
        self._exec("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?)",
                   (rec["key"], rec["parent"], rec["group"], rec["type"].lower(), json.dumps(rec)))

    def delete(self, key: str) -> None:
        self._exec("DELETE FROM resources WHERE key=?", (key.lower(),))

    def children(self, parent_key: str) -> list[dict]:
        return self._many("SELECT rec FROM resources WHERE parent=? ORDER BY rowid", (parent_key.lower(),))

    def in_group(self, group_key: str) -> list[dict]:
        return self._many("SELECT rec FROM resources WHERE grp=? ORDER BY rowid", (group_key.lower(),))

    def of_type(self, type_name: str) -> list[dict]:
        return self._many("SELECT rec FROM resources WHERE type=? ORDER BY rowid", (type_name.lower(),))

    def under(self, key: str) -> list[dict]:
        """Everything whose id starts with `key/` (children, grandchildren and extension resources)."""
        prefix = key.lower() + "/"
        return self._many("SELECT rec FROM resources WHERE substr(key, 1, ?)=? ORDER BY length(key) DESC",
                          (len(prefix), prefix))

    def all(self) -> list[dict]:
        return self._many("SELECT rec FROM resources ORDER BY rowid", ())

    # ------------------------------------------------------------ operations

    def get_op(self, op_id: str) -> dict | None:
        return self._one("SELECT rec FROM ops WHERE id=?", (op_id.lower(),))

    def put_op(self, op: dict) -> None:
        self._exec("INSERT OR REPLACE INTO ops VALUES (?,?,?)", (op["id"].lower(), int(op["done"]), json.dumps(op)))

    def pending_ops(self) -> list[dict]:
        return self._many("SELECT rec FROM ops WHERE done=0 ORDER BY rowid", ())

    # ------------------------------------------------------------ metadata (bins, clock, identity)

    def meta(self, name: str, default: Any = None) -> Any:
        found = self._one("SELECT value FROM meta WHERE name=?", (name,))
        return default if found is None else found

    def set_meta(self, name: str, value: Any) -> None:
        self._exec("INSERT OR REPLACE INTO meta VALUES (?,?)", (name, json.dumps(value)))

    def reset(self) -> None:
        """Forget the whole cloud (keeps identity and clock)."""
        with self.lock:
            self.db.execute("DELETE FROM resources")
            self.db.execute("DELETE FROM ops")
            self.db.execute("DELETE FROM meta WHERE name LIKE 'bin:%'")

    # ------------------------------------------------------------ plumbing

    def _exec(self, sql: str, args: tuple) -> None:
        with self.lock:
            self.db.execute(sql, args)

    def _one(self, sql: str, args: tuple) -> Any:
        with self.lock:
            row = self.db.execute(sql, args).fetchone()
        return None if row is None else json.loads(row[0])

    def _many(self, sql: str, args: tuple) -> list:
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [json.loads(r[0]) for r in rows]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction (and one lock) around a whole request, so other threads and processes never see
        half of it. Re-entrant."""
        with self.lock:
            self._depth += 1
            if self._depth == 1:
                self.db.execute("BEGIN IMMEDIATE")
            ok = False
            try:
                yield
                ok = True
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.db.execute("COMMIT" if ok else "ROLLBACK")
