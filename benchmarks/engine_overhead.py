"""The engine's own cost: plan and drift of the converged reference deployment, with the sandbox taking no time.

Why: a deployment's wall time should be Azure's (see benchmarks/deployment.py); this shows what is left when
Azure is instantaneous. Under the `instant` profile (throttling off) the whole reference spec is applied once, then `plan` and
`drift` run against the converged cloud: their wall time and how many requests each sends (reads only: one GET
per resource is the floor). It also gives the request rate of the instant full apply, to set beside what the
sandbox itself sustains (benchmarks/sandbox_throughput.py, run here as a subprocess unless --no-throughput).
By default engine and sandbox share one process (and its GIL), so its CPU time counts both; with
--sandbox-process the sandbox runs as `sandbox serve` in another process and the CPU time is the engine's alone.

Run: `python benchmarks/engine_overhead.py [--parallelism 8] [--repeat 2] [--sandbox-process] [--no-throughput]
[--json]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codemie_provisioner import Session
from codemie_provisioner.sandbox import Sandbox, attach

ROOT = Path(__file__).resolve().parents[1]
# Throttling off: under `instant` ARM's real refill rates (25 reads/s) would be what this measures.
PROFILE = {"base": "instant", "rules": {"throttling": False}}
SPEC = ROOT / "specs" / "codemie.yaml"


def measured(box: Sandbox, command) -> dict:
    """Run `command()` with a clean request log: wall time, requests by method, writes, and the sandbox's
    own serving time (sum of per-request ms) as a share of the wall."""
    box.clear_requests()
    cpu, started = time.process_time(), time.perf_counter()
    outcome = command()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    requests = box.requests()
    mean_ms = sum(r["ms"] for r in requests) / max(len(requests), 1)
    return {"wall_s": wall, "process_cpu_s": cpu, "requests": len(requests),
            "by_method": dict(Counter(r["method"] for r in requests)),
            "writes": sum(1 for r in requests if r["write"]), "requests_per_s": len(requests) / wall,
            "sandbox_mean_ms": mean_ms, "outcome": outcome}


@contextlib.contextmanager
def in_process(tmp: Path):
    """An in-memory sandbox in this process: (sandbox, what Session needs to use it)."""
    with Sandbox(PROFILE) as box:
        yield box, {"sandbox": box}


@contextlib.contextmanager
def other_process(tmp: Path):
    """`sandbox serve` in a child process over a data directory; Session attaches to it through that directory."""
    data, profile = tmp / "cloud", tmp / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    child = subprocess.Popen([sys.executable, "-m", "codemie_provisioner", "sandbox", "serve", "--data-dir",
                              str(data), "--profile", str(profile)], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline, box = time.monotonic() + 30, None
        while box is None and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            box = attach(data)
        if box is None:
            raise RuntimeError("the sandbox process did not come up")
        yield box, {"sandbox": True, "sandbox_dir": data}
    finally:
        child.terminate()
        child.wait(10)


def one_run(parallelism: int, separate: bool) -> dict:
    """Fresh instant sandbox: apply everything, then plan and drift the converged deployment."""
    with tempfile.TemporaryDirectory() as tmp, (other_process if separate else in_process)(Path(tmp)) as (box, kw), \
            Session(SPEC, state_dir=Path(tmp) / "state", parallelism=parallelism, **kw) as s:
        apply = measured(box, lambda: s.apply().ok)
        plan = measured(box, lambda: sum(c.action != "noop" for c in s.plan().changes))
        drift = measured(box, lambda: len(s.drift()))
    return {"resources": len(s.deployment.resources), "apply": apply, "plan": plan, "drift": drift}


def sandbox_capacity(seconds: float) -> dict:
    """benchmarks/sandbox_throughput.py's reads/s and writes/s (16 concurrent SDK clients)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sandbox_throughput.py"), "--seconds",
                          str(seconds)], capture_output=True, text=True, check=True).stdout
    rates = dict(re.findall(r"(reads|writes):\s+([\d.]+) /s", out))
    return {k: float(v) for k, v in rates.items()}


def print_text(runs: list[dict], capacity: dict | None, separate: bool) -> None:
    where = "in another process" if separate else "in this process"
    for i, r in enumerate(runs, 1):
        print(f"run {i}: {r['resources']} resources, instant profile, throttling off, sandbox {where}")
        for name in ("apply", "plan", "drift"):
            m = r[name]
            print(f"  {name:5}: {m['wall_s']:6.2f} s wall, {m['requests']:4} requests {m['by_method']}, "
                  f"{m['writes']} writes, {m['requests_per_s']:4.0f} req/s, sandbox {m['sandbox_mean_ms']:.1f} ms/request, "
                  f"CPU {m['process_cpu_s']:.2f} s, result {m['outcome']}")
    if capacity:
        print(f"sandbox capacity (sandbox_throughput.py): reads {capacity.get('reads', 0):.0f}/s, "
              f"writes {capacity.get('writes', 0):.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sandbox-process", action="store_true", help="run the sandbox in another process")
    parser.add_argument("--throughput-seconds", type=float, default=3.0)
    parser.add_argument("--no-throughput", action="store_true", help="skip running sandbox_throughput.py")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of text")
    args = parser.parse_args()
    runs = [one_run(args.parallelism, args.sandbox_process) for _ in range(args.repeat)]
    capacity = None if args.no_throughput else sandbox_capacity(args.throughput_seconds)
    if args.json:
        print(json.dumps({"parallelism": args.parallelism, "sandbox_process": args.sandbox_process, "runs": runs,
                          "sandbox_capacity": capacity}, indent=2))
    else:
        print_text(runs, capacity, args.sandbox_process)


if __name__ == "__main__":
    main()
