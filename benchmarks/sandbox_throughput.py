"""Sandbox throughput over HTTPS: reads/s and writes/s with 16 concurrent real SDK clients.

Why: the engine's tests and rehearsals run hundreds of ARM calls through the sandbox; this says how many per
second it sustains (throttling off, instant profile), so a slowdown in the core shows up as a number here rather
than as slow tests. Run: `python benchmarks/sandbox_throughput.py [--seconds 3] [--clients 16]`.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure.mgmt.resource.resources import ResourceManagementClient

from codemie_provisioner.sandbox import Sandbox


def hammer(clients: list, seconds: float, call) -> float:
    """Run `call(client, worker, i)` in one thread per client for `seconds`; return calls per second."""
    counts = [0] * len(clients)
    stop = time.perf_counter() + seconds

    def work(n: int) -> None:
        while time.perf_counter() < stop:
            call(clients[n], n, counts[n])
            counts[n] += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(clients))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with Sandbox({"base": "instant", "rules": {"throttling": False}}) as box:
        clients = [box.client(ResourceManagementClient) for _ in range(args.clients)]
        for n, client in enumerate(clients):
            client.resource_groups.create_or_update(f"rg-{n}", {"location": "westeurope"})
        reads = hammer(clients, args.seconds, lambda c, n, i: c.resource_groups.get(f"rg-{n}"))
        writes = hammer(clients, args.seconds, lambda c, n, i: c.resource_groups.create_or_update(
            f"rg-{n}", {"location": "westeurope", "tags": {"i": str(i)}}))
        errors = [r for r in box.requests() if r["status"] >= 400]
    print(f"sandbox over HTTPS, {args.clients} clients, {args.seconds:g} s each:")
    print(f"  reads:  {reads:8.0f} /s")
    print(f"  writes: {writes:8.0f} /s")
    print(f"  errors: {len(errors)}")


if __name__ == "__main__":
    main()
