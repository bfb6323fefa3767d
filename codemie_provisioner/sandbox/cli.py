"""`sandbox` commands: serve a persistent sandbox, change it behind the engine's back, read its request log.

Why: drift detection, adoption and recovery are rehearsed by changing the cloud as a portal user would, between
engine runs. `tamper` and `remove` go through a running sandbox's admin API when one serves the data directory,
and straight to the stored cloud when none does.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click

from .core import Cloud
from .profile import Profile
from .remote import attach

DEFAULT_DIR = ".codemie-sandbox"

data_dir_option = click.option("--data-dir", default=DEFAULT_DIR, show_default=True, type=click.Path(path_type=Path),
                               help="Where the sandbox keeps its cloud.")


@click.group("sandbox")
def sandbox() -> None:
    """A local Azure Resource Manager over HTTPS."""


@sandbox.command()
@data_dir_option
@click.option("--port", default=0, show_default=True, help="TCP port on 127.0.0.1 (0 = any free port).")
@click.option("--profile", default="instant", show_default=True, help="instant, realistic, or a JSON/YAML file.")
@click.option("--time-scale", type=float, default=None, help="Multiply realistic durations by this factor.")
def serve(data_dir: Path, port: int, profile: str, time_scale: float | None) -> None:
    """Serve the sandbox until Ctrl-C."""
    from .service import Sandbox

    running = attach(data_dir)
    if running is not None:
        raise click.ClickException(f"{data_dir} is already served at {running.base_url}")
    prof = Profile.resolve(profile)
    if time_scale is not None:
        prof = prof.updated({"time_scale": time_scale})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(prof, data_dir=data_dir, port=port) as box:
        click.echo(f"endpoint:     {box.base_url}")
        click.echo(f"ca file:      {box.ca_file}")
        click.echo(f"subscription: {box.subscription_id}")
        click.echo(f"tenant:       {box.tenant_id}")
        click.echo(f"profile:      {prof.name} (time scale {prof.time_scale:g})")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


@sandbox.command()
@data_dir_option
@click.argument("resource_id")
@click.argument("patch")
def tamper(data_dir: Path, resource_id: str, patch: str) -> None:
    """Change a resource out of band with a JSON merge PATCH."""
    try:
        changes = json.loads(patch)
    except ValueError as err:
        raise click.BadParameter(f"not JSON: {err}", param_hint="PATCH") from None
    body = _on_cloud(data_dir, lambda target: target.tamper(resource_id, changes))
    click.echo(json.dumps(body, indent=2))


@sandbox.command()
@data_dir_option
@click.argument("resource_id")
def remove(data_dir: Path, resource_id: str) -> None:
    """Delete a resource (and what is under it) out of band."""
    _on_cloud(data_dir, lambda target: target.remove(resource_id))
    click.echo(f"removed {resource_id}")


@sandbox.command()
@data_dir_option
@click.option("--writes", is_flag=True, help="Only requests that change something.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def requests(data_dir: Path, writes: bool, as_json: bool) -> None:
    """Print the request log."""
    log = data_dir / "requests.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines() if line] if log.exists() else []
    for entry in entries:
        if writes and not entry.get("write"):
            continue
        click.echo(json.dumps(entry) if as_json else
                   f"{entry['method']:6} {entry['status']} {entry['ms']:8.1f} ms  {entry['path']}")


@sandbox.command("profile")
@data_dir_option
@click.option("--set", "changes", default=None, metavar="JSON",
              help='Fields to merge into the profile, e.g. \'{"faults": [...]}\' ("base" replaces it).')
def profile_cmd(data_dir: Path, changes: str | None) -> None:
    """Show (or change) the profile of the running sandbox."""
    remote = attach(data_dir)
    if remote is None:
        raise click.ClickException(f"no sandbox is serving {data_dir}")
    try:
        current = remote.set_profile(json.loads(changes)) if changes else remote.profile
    except (ValueError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(current.to_dict(), indent=2))


def _on_cloud(data_dir: Path, action):
    """Run `action` on the sandbox serving `data_dir`, or on the stored cloud when none does."""
    remote = attach(data_dir)
    if remote is None:
        return _offline(data_dir, action)
    try:
        return action(remote)
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None


def _offline(data_dir: Path, action):
    if not (data_dir / "cloud.db").exists():
        raise click.ClickException(f"no sandbox cloud in {data_dir}")
    from . import types

    types.load_all()
    cloud = Cloud(Profile.named("instant"), data_dir)
    try:
        return action(cloud)
    except KeyError as err:
        raise click.ClickException(str(err.args[0])) from None
    finally:
        cloud.close()
