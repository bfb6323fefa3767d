"""The command line: parse, call one library function, render, exit with a meaningful code.

Why: everything the CLI does must also be importable (`codemie_provisioner.Session`), so this module holds no
logic of its own. Exit codes follow the convention users keep asking the other tools for: `plan` and `drift`
exit 0 for no changes, 2 for changes, 1 for an error. Expected errors print one line; the traceback of an
unexpected one goes to a debug log file, not the screen.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from pathlib import Path

import click

from .. import api
from ..errors import ProvisionerError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected NAME=VALUE, got '{pair}'", param_hint="--var")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def _profile(name: str | None, time_scale: float | None):
    """The embedded sandbox's profile from --sandbox-profile / --time-scale (None: the default)."""
    if name is None and time_scale is None:
        return None
    from ..local_sandbox import DEFAULT_PROFILE
    from ..sandbox import Profile

    try:
        base = Profile.resolve(name) if name else Profile.resolve(dict(DEFAULT_PROFILE))
    except (ValueError, OSError) as exc:
        raise ProvisionerError(f"--sandbox-profile: {str(exc).splitlines()[0]}") from None
    return base.updated({"time_scale": time_scale}) if time_scale is not None else base


def _variables(files: tuple[str, ...], pairs: tuple[str, ...]) -> dict:
    """Variable files first (in order), then --var pairs on top."""
    from ..spec import read_var_file

    out: dict = {}
    for path in files:
        out.update(read_var_file(path))
    return out | _parse_vars(pairs)


def common(fn):
    """Options every command that touches a deployment takes."""
    options = [
        click.option("--spec", default=api.DEFAULT_SPEC, show_default=True, help="Spec file."),
        click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set a spec variable."),
        click.option("--var-file", "var_files", multiple=True, metavar="FILE",
                     help="YAML/JSON file of variable values (before --var)."),
        click.option("--sandbox", is_flag=True, help="Run against the local sandbox instead of Azure."),
        click.option("--sandbox-dir", default=api.DEFAULT_SANDBOX_DIR, show_default=True,
                     help="Where the sandbox keeps its cloud."),
        click.option("--sandbox-profile", default=None, metavar="NAME|FILE",
                     help="Profile of an embedded sandbox: instant, realistic, or a profile file "
                          "[default: realistic at --time-scale]."),
        click.option("--time-scale", type=click.FloatRange(min=0), default=None,
                     help="Time scale of an embedded sandbox's realistic durations [default: 0.01]."),
        click.option("--state-dir", default=None, help="Local state directory (before the backend exists)."),
        click.option("--subscription", default=None, envvar="AZURE_SUBSCRIPTION_ID", help="Azure subscription id."),
        click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 64)),
        click.option("--json", "json_mode", is_flag=True, help="JSON output (JSON lines for events)."),
        click.option("--plain", is_flag=True, help="Plain lines instead of the live view."),
        click.option("--target", "targets", multiple=True, metavar="ADDRESS",
                     help="Limit to these resources and what they need."),
        click.option("--phase", "phases", multiple=True, metavar="NAME",
                     help="Limit to the resources of these phases (and what they need)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


class Ctx:
    def __init__(self, kw: dict):
        from .render import make_renderer

        self.kw = kw
        self.json_mode = kw.pop("json_mode")
        self.renderer = make_renderer(self.json_mode, kw.pop("plain"))
        self.targets = list(kw.pop("targets")) or None
        self.phases = list(kw.pop("phases")) or None

    def session(self) -> api.Session:
        kw = self.kw
        session = api.Session(kw["spec"], sandbox=kw["sandbox"], sandbox_dir=kw["sandbox_dir"],
                              state_dir=kw["state_dir"], subscription_id=kw["subscription"],
                              variables=_variables(kw["var_files"], kw["variables"]), sink=self.renderer,
                              parallelism=kw["parallelism"],
                              profile=_profile(kw["sandbox_profile"], kw["time_scale"]))
        if self.phases:
            self.targets = (self.targets or []) + session.phase_addresses(self.phases)
        return session

    def close(self) -> None:
        self.renderer.close()


def run(fn):
    """Turn expected errors into one line and exit 1; log unexpected tracebacks to a file."""
    try:
        code = fn()
    except (ProvisionerError, click.ClickException) as exc:
        if isinstance(exc, click.ClickException):
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        log = Path(tempfile.gettempdir()) / "codemie-provisioner-debug.log"
        log.write_text(traceback.format_exc())
        click.echo(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                   f"(details in {log})", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code or EXIT_OK)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codemie-provisioner")
def cli() -> None:
    """Deploy and keep the Azure infrastructure of AI/Run CodeMie."""


@cli.command()
@click.option("--spec", default=api.DEFAULT_SPEC, show_default=True)
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE")
def validate(spec: str, variables: tuple[str, ...]) -> None:
    """Check the spec without calling Azure."""
    def go():
        dep = api.load(spec, _parse_vars(variables))
        click.echo(f"{spec}: valid ({len(dep.resources)} resources)")
    run(go)


def _print_plan(plan, json_mode: bool) -> None:
    if json_mode:
        click.echo(json.dumps(plan.to_dict(), default=str))      # one line: JSON mode is JSON lines
        return
    for c in plan.changes:
        if c.action == "noop":
            continue
        click.echo(f"{SYM.get(c.action, '?'):>3} {c.address} ({c.kind}) {c.action}"
                   + (f": {c.reason}" if c.reason and c.action != "update" else ""))
        for f in c.fields:
            click.echo(f"      {f['path']}: {json.dumps(f['before'], default=str)} -> "
                       f"{json.dumps(f['after'], default=str)}")
    counts = plan.counts()
    click.echo(f"Plan: {counts['create']} to create, {counts['update']} to update, "
               f"{counts['replace']} to replace, {counts['delete']} to delete, {counts['noop']} unchanged.")


SYM = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}


@cli.command()
@common
@click.option("--out", "out_file", default=None, help="Save the plan for a later apply.")
@click.option("--destroy", is_flag=True, help="Plan a destroy.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
def plan(out_file, destroy, detailed_exitcode, **kw) -> None:
    """Show what apply would change."""
    ctx = Ctx(kw)

    def go():
        with ctx.session() as s:
            p = s.plan(ctx.targets, destroy=destroy)
        ctx.close()
        _print_plan(p, ctx.json_mode)
        if out_file:
            p.save(out_file)
        return EXIT_CHANGES if detailed_exitcode and p.has_changes else EXIT_OK
    run(go)


@cli.command()
@common
@click.argument("plan_file", required=False)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def apply(plan_file, yes, **kw) -> None:
    """Create or update everything the spec describes."""
    from ..engine.plan import Plan

    ctx = Ctx(kw)

    def go():
        with ctx.session() as s:
            p = Plan.load(plan_file) if plan_file else None
            if p is None and not yes:
                preview = s.plan(ctx.targets)
                _print_plan(preview, False)
                if not preview.has_changes:
                    return EXIT_OK
                if not click.confirm("Apply these changes?", default=False):
                    click.echo("Cancelled.")
                    return EXIT_ERROR
                p = preview
            result = s.apply(p, ctx.targets)
        ctx.close()
        return EXIT_OK if result.ok else EXIT_ERROR
    run(go)


@cli.command()
@common
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def destroy(yes, **kw) -> None:
    """Delete everything in state, in reverse dependency order."""
    ctx = Ctx(kw)

    def go():
        with ctx.session() as s:
            if not yes:
                preview = s.plan(ctx.targets, destroy=True)
                _print_plan(preview, False)
                if not click.confirm("Destroy these resources?", default=False):
                    click.echo("Cancelled.")
                    return EXIT_ERROR
            result = s.destroy(ctx.targets)
        ctx.close()
        return EXIT_OK if result.ok else EXIT_ERROR
    run(go)


@cli.command()
@common
@click.argument("check", required=False, type=click.Choice(["check"]))
def drift(check, **kw) -> None:
    """Compare live Azure with the last applied state (never writes). Exit 2 on drift."""
    ctx = Ctx(kw)

    def go():
        with ctx.session() as s:
            items = s.drift(ctx.targets)
        ctx.close()
        if ctx.json_mode:
            click.echo(json.dumps({"drift": [i.__dict__ for i in items]}, default=str))
        elif not items:
            click.echo("No drift: Azure matches the last applied state.")
        return EXIT_CHANGES if items else EXIT_OK
    run(go)


@cli.command()
@click.option("--spec", default=api.DEFAULT_SPEC, show_default=True)
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE")
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
def graph(spec, variables, fmt) -> None:
    """Export the resource graph (DOT or Mermaid)."""
    def go():
        from ..engine.graph import build_graph, to_dot, to_mermaid

        g = build_graph(api.load(spec, _parse_vars(variables)))
        click.echo(to_dot(g) if fmt == "dot" else to_mermaid(g))
    run(go)


@cli.command()
@common
@click.option("--format", "fmt", type=click.Choice(["text", "json", "env"]), default="text", show_default=True)
@click.option("--file", "out_file", default=None,
              help="Write to this file (env format default: deployment_outputs.env).")
@click.option("--show-secrets", is_flag=True, help="Read secret outputs from Key Vault (never from state).")
def output(fmt, out_file, show_secrets, **kw) -> None:
    """Print the deployment's outputs (what the components stage reads)."""
    ctx = Ctx(kw)

    def go():
        with ctx.session() as s:
            values = s.outputs(show_secrets=show_secrets)
        ctx.close()
        fmt_ = "json" if ctx.json_mode else fmt
        text = _format_outputs(values, fmt_)
        target = out_file or ("deployment_outputs.env" if fmt_ == "env" else None)
        if target:
            Path(target).write_text(text)
            if show_secrets:
                Path(target).chmod(0o600)
            click.echo(f"wrote {target}")
        else:
            click.echo(text, nl=False)
    run(go)


def _format_outputs(values: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(values, indent=2, default=str) + "\n"
    if fmt == "env":
        return "".join(_env_line(k, v) for k, v in values.items())
    return "".join(f"{k} = {_text_value(v)}\n" for k, v in values.items())


def _text_value(value) -> str:
    if isinstance(value, dict) and "secretRef" in value:
        ref = value["secretRef"]
        return f"(secret in Key Vault: {ref['name']}; use --show-secrets)"
    return json.dumps(value, default=str)


def _env_line(key: str, value) -> str:
    if isinstance(value, dict) and "secretRef" in value:
        return f"# {key}: secret '{value['secretRef']['name']}' in Key Vault; run output --show-secrets\n{key}=\n"
    if value is None:
        return f"{key}=\n"
    text = value if isinstance(value, str) else json.dumps(value)
    if any(c in text for c in " \"'$`\\#~"):
        text = "'" + text.replace("'", "'\\''") + "'"
    return f"{key}={text}\n"


from .state_cmd import state  # noqa: E402

cli.add_command(state)
try:
    from ..sandbox.cli import sandbox as sandbox_group

    cli.add_command(sandbox_group)
except ImportError:  # the sandbox CLI is optional in a trimmed install
    pass


def main() -> None:
    """Exit codes stay meaningful: a usage error is 1 (click's default 2 would read as "changes found")."""
    try:
        code = cli.main(prog_name="python -m codemie_provisioner", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    sys.exit(code or EXIT_OK)
