"""``make bench``: run every benchmark and print each result beside its baseline and the ratio."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from pathlib import Path

BENCHMARKS = ["bench.messaging"]
OPTIONAL = ["bench.tickets", "bench.entitlement", "bench.dispatch_optimiser"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", action="append", help="module name, e.g. messaging")
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args()
    modules = BENCHMARKS + [m for m in OPTIONAL if Path(m.replace(".", "/") + ".py").exists()]
    if args.only:
        modules = [m for m in modules if m.split(".")[-1] in args.only]
    results = {}
    for name in modules:
        module = importlib.import_module(name)
        print(f"\n== {name.split('.')[-1]} ==", flush=True)
        results[name] = (
            asyncio.run(module.run(quick=args.quick))
            if asyncio.iscoroutinefunction(module.run)
            else module.run(quick=args.quick)
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {args.json}")
    failed = [n for n, r in results.items() if isinstance(r, dict) and r.get("meets_target") is False]
    if failed:
        print("below target: " + ", ".join(failed))
    sys.exit(0)


if __name__ == "__main__":
    main()
