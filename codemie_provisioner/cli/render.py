"""Renderers: turn engine events into what a person or a program reads.

Why: the engine only emits events. On a terminal a live view shows each long operation with its elapsed time
(AKS, Bastion and PostgreSQL take many minutes, and a silent screen looks like a hang); in pipes and logs plain
lines read better; `--json` gives one JSON object per line for other tools.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO

from .. import events as ev

SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "noop": " "}


def describe(event: ev.Event) -> str | None:
    """One plain line for an event, or None for events only the live view shows."""
    match event:
        case ev.RunStarted():
            return f"{event.command}: {event.deployment}, {event.resources} resources"
        case ev.ResourceStarted() if event.action != "noop":
            return f"{event.address}: {event.action} started"
        case ev.ResourceDone() if event.action != "noop":
            return f"{event.address}: {event.action} done in {event.elapsed_s:.1f} s"
        case ev.ResourceRetry():
            return f"{event.address}: {event.code}; {event.next_step}"
        case ev.ResourceFailed():
            return f"{event.address}: FAILED {event.action}: {event.code}: {event.message}"
        case ev.ResourceSkipped():
            return f"{event.address}: skipped ({event.reason})"
        case ev.ResourceProgress():
            return f"{event.address}: {event.message}"
        case ev.DriftFound():
            fields = ", ".join(f["path"] for f in event.fields)
            return f"{event.address}: {event.status}" + (f" ({fields})" if fields else "")
        case ev.LockWaiting():
            return f"waiting for the state lock held by {event.holder}"
        case ev.Message():
            return f"{event.level}: {event.text}"
        case ev.RunFinished():
            counts = ", ".join(f"{k} {v}" for k, v in sorted(event.counts.items()) if v)
            status = "ok" if event.ok else "FAILED"
            return f"{event.command} {status} in {event.elapsed_s:.1f} s" + (f" ({counts})" if counts else "")
    return None


class PlainRenderer:
    def __init__(self, out: IO[str] | None = None):
        self.out = out or sys.stdout
        self.t0 = time.monotonic()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ResourcePlanned):
            return
        line = describe(event)
        if line:
            print(f"[{time.monotonic() - self.t0:7.1f}s] {line}", file=self.out, flush=True)

    def close(self) -> None:
        pass


class JsonRenderer:
    def __init__(self, out: IO[str] | None = None):
        self.out = out or sys.stdout
        self._mu = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        with self._mu:
            print(json.dumps(event.to_dict(), default=str), file=self.out, flush=True)

    def close(self) -> None:
        pass


class LiveRenderer:
    """A rich live table of running operations with elapsed times; finished lines scroll above it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console()
        self.running: dict[str, tuple[str, float]] = {}
        self._mu = threading.Lock()
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=True,
                         get_renderable=self._table)
        self.live.start()

    def _table(self):
        from rich.table import Table

        table = Table(box=None, show_header=False)
        with self._mu:
            items = sorted(self.running.items(), key=lambda kv: kv[1][1])
        for address, (action, since) in items:
            table.add_row("[cyan]…[/]", action, address, f"{time.monotonic() - since:6.0f} s")
        return table

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ResourceStarted) and event.action != "noop":
            with self._mu:
                self.running[event.address] = (event.action, time.monotonic())
        if isinstance(event, (ev.ResourceDone, ev.ResourceFailed, ev.ResourceSkipped)):
            with self._mu:
                self.running.pop(event.address, None)
        if isinstance(event, ev.ResourcePlanned):
            return
        line = describe(event)
        if line:
            style = "red" if isinstance(event, ev.ResourceFailed) else \
                "yellow" if isinstance(event, (ev.ResourceRetry, ev.ResourceSkipped)) else ""
            self.console.print(line, style=style, markup=False, highlight=False)

    def close(self) -> None:
        self.live.stop()


def make_renderer(json_mode: bool, plain: bool):
    if json_mode:
        return JsonRenderer()
    if plain or not sys.stdout.isatty():
        return PlainRenderer()
    return LiveRenderer()
