"""`state` commands: read the snapshot history, compare, roll back the record, break a stuck lock.

Why: a state store nobody can inspect gets edited by hand. These commands make the store's history, its
differences and its lock holder visible, and give the one safe way out of a lock left by a dead process.
"""

from __future__ import annotations

import json

import click

from .main import Ctx, common, run


def _session(kw):
    ctx = Ctx(kw)
    return ctx, ctx.session()


@click.group()
def state() -> None:
    """Inspect and manage the state snapshots."""


@state.command("list")
@common
def list_(**kw) -> None:
    """Resources in the latest snapshot."""
    ctx, session = _session(kw)

    def go():
        with session as s:
            snap = _doc(s.store.latest())
        for address, rec in sorted((snap or {}).get("resources", {}).items()):
            click.echo(f"{address}\t{rec['kind']}\t{rec.get('status', '')}\t{rec['id']}")
    run(go)


@state.command()
@common
@click.argument("address", required=False)
@click.option("--serial", type=int, default=None)
def show(address, serial, **kw) -> None:
    """A snapshot (or one resource in it) as JSON."""
    ctx, session = _session(kw)

    def go():
        with session as s:
            snap = _doc(s.store.get(serial) if serial else s.store.latest())
        if snap is None:
            click.echo("no state yet")
            return 0
        data = snap["resources"].get(address) if address else snap
        click.echo(json.dumps(data, indent=2, default=str))
        return 0
    run(go)


@state.command()
@common
def history(**kw) -> None:
    """Every snapshot, oldest first."""
    ctx, session = _session(kw)

    def go():
        with session as s:
            entries = s.store.history()
        for e in entries:
            e = e if isinstance(e, dict) else e.__dict__
            click.echo(json.dumps(e, default=str) if ctx.json_mode else
                       f"{e.get('serial')}\t{e.get('created_at', '')}\t{e.get('reason', '')}\t"
                       f"{e.get('resources', e.get('resource_count', ''))}")
    run(go)


@state.command()
@common
@click.argument("serial_a", type=int)
@click.argument("serial_b", type=int)
def diff(serial_a, serial_b, **kw) -> None:
    """What changed between two snapshots."""
    ctx, session = _session(kw)

    def go():
        with session as s:
            click.echo(json.dumps(s.store.diff(serial_a, serial_b), indent=2, default=str))
    run(go)


@state.command()
@common
@click.argument("serial", type=int)
def rollback(serial, **kw) -> None:
    """Write a new snapshot whose content is an older one (history is never rewritten)."""
    ctx, session = _session(kw)

    def go():
        from ..engine.core import who

        with session as s, s.store.lock(who("state rollback"), wait=5.0):
            written = s.store.rollback(serial)
        click.echo(f"state now at serial {getattr(written, 'serial', None) or written['serial']} "
                   f"(content of serial {serial})")
    run(go)


@state.command()
@common
def unlock(**kw) -> None:
    """Break the state lock (use when its holder is gone)."""
    ctx, session = _session(kw)

    def go():
        with session as s:
            holder = s.store.lock_holder()
            s.store.break_lock()
        click.echo(f"lock broken (was held by {holder})" if holder else "the state was not locked")
    run(go)


def _doc(snap):
    if snap is None or isinstance(snap, dict):
        return snap
    return snap.to_dict()
