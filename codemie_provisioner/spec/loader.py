"""load_spec: file -> validated, expanded `Deployment`, or one SpecError naming file, line and field.

Why: every check that needs no Azure call runs here, in a fixed order (YAML, schema, variables, declarations,
instances, kinds rules, address ranges, duplicate ids, cycles), so a plan never starts on a spec that can
only fail later. Also here: the variable-file and `--var` readers the CLI uses, and `spec_hash`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ProvisionerError
from .checks import check_address_space, check_duplicate_ids, check_resource
from .deps import dependency_graph
from .expand import Expander, evaluate_at, fail_for
from .model import Deployment, KindInfo, Phase
from .schema import validate
from .variables import resolve_variables
from .yamlsrc import load_yaml

_DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None,
              environ: Mapping[str, str] | None = None, *, kinds: Mapping[str, KindInfo],
              text: str | None = None) -> Deployment:
    """Load and check a spec. `overrides` come from --var/--var-file; `environ` defaults to os.environ."""
    source = load_yaml(path, text)
    spec = validate(source)
    env = os.environ if environ is None else environ
    variables = resolve_variables(source, spec.variables, overrides or {}, env)
    exp = Expander(source, spec, variables, kinds)
    name = evaluate_at(source, spec.deployment, exp.var_scope("deployment"), ("deployment",))
    if not isinstance(name, str) or not _DEPLOYMENT_NAME.fullmatch(name):
        raise source.error(("deployment",), f"{name!r} is not a valid deployment name "
                                            "(1-63 letters, digits, '_', '.', '-')")
    exp.declare()
    resources, bases = exp.build_all()
    secrets = {n: exp.secret(n, decl) for n, decl in spec.secrets.items()}
    _check_all(resources, kinds, fail_for(source, bases))
    phases = tuple(Phase(p.name, tuple(r.address for r in resources if r.phase == p.name)) for p in spec.phases)
    deployment = Deployment(name, source.file, dict(variables), phases, tuple(resources), secrets,
                            exp.state(), exp.outputs())
    dependency_graph(deployment)
    return deployment


def _check_all(resources: list, kinds: Mapping[str, KindInfo], fail: Any) -> None:
    by_address = {r.address: r for r in resources}
    for res in resources:
        check_resource(res, kinds, by_address, fail)
    check_address_space(resources, fail)
    check_duplicate_ids(resources, kinds, fail)


def spec_hash(deployment: Deployment) -> str:
    """sha256 of everything that decides what gets deployed (not line numbers or comments)."""
    text = json.dumps(deployment.to_data(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_var_file(path: str | Path) -> dict[str, Any]:
    """A YAML (or JSON) mapping of variable values, as given to --var-file."""
    source = load_yaml(path)
    if source.data is None:
        return {}
    if not isinstance(source.data, dict):
        raise source.error((), "a variable file must be a mapping of NAME: value")
    return dict(source.data)


def parse_var_args(items: Iterable[str]) -> dict[str, str]:
    """['k=v', ...] from --var; the value stays text and is parsed by the variable's type."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ProvisionerError(f"--var {item!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out
