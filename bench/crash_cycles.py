"""kill -9 at random points of `ragtune ingest`, `ragtune tune` and `ragtune compare`, then
resume (issue 24, item 4).

For each command: one clean run (timed), then N cycles (default 20) of: copy the pre-run
project, start the CLI, SIGKILL it after a seeded random delay (one draw in each of N equal
slices of the clean run's wall time), check what the kill left, rerun to completion, and
check the result equals the clean run's. The scenarios and checks live in
tests/helpers/crash_scenarios.py and tests/helpers/crash.py (the crash tests use them too).

    .venv/bin/python bench/crash_cycles.py [--cycles 20] [--only ingest,tune,compare]

Writes bench/results/crash_cycles.json; `bench/report.py` renders it into RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))  # the scenarios live with the tests

from tests.helpers.crash_scenarios import SCENARIOS, delays  # noqa: E402

from common import RESULTS_DIR, save  # noqa: E402

WORK = BENCH / ".data" / "crash_cycles"


def summarise(name: str, clean_s: float, cycles: list[dict[str, Any]]) -> dict[str, Any]:
    checks = collections.Counter(k for c in cycles for k, ok in c["checks"].items() if ok)
    total = collections.Counter(k for c in cycles for k in c["checks"])
    return {
        "command": name,
        "clean_run_s": round(clean_s, 2),
        "cycles": len(cycles),
        "killed": sum(c["killed"] for c in cycles),
        "stages": dict(collections.Counter(c["stage"] for c in cycles if c["killed"])),
        "checks_passed": sum(checks.values()),
        "checks_run": sum(total.values()),
        "per_check": {k: f"{checks[k]}/{total[k]}" for k in total},
        "cycles_all_passed": sum(all(c["checks"].values()) for c in cycles),
        "problems": [f"cycle {c['cycle']}: {p}" for c in cycles for p in c["problems"]],
        "detail": cycles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--only", default="ingest,tune,compare")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    results = []
    started = time.monotonic()
    for name in args.only.split(","):
        scenario = SCENARIOS[name](WORK / name)
        scenario.setup()
        print(f"{name}: clean run {scenario.clean_seconds:.1f} s", flush=True)
        cycles = []
        for i, delay in enumerate(delays(args.cycles, scenario.clean_seconds, args.seed)):
            record = scenario.cycle(i, delay)
            cycles.append(record)
            status = "ok" if all(record["checks"].values()) else "; ".join(record["problems"])
            print(f"  {name} #{i:02d} kill at {delay:5.2f} s ({record['variant']}): "
                  f"{record['stage']}: {status}", flush=True)  # fmt: skip
        results.append(summarise(name, scenario.clean_seconds, cycles))
    print()
    print("| command | cycles | killed while running | stages at the kill | checks passed |")
    print("|---|---|---|---|---|")
    for r in results:
        stages = ", ".join(f"{k} {v}" for k, v in sorted(r["stages"].items()))
        print(f"| {r['command']} | {r['cycles']} | {r['killed']} | {stages} | "
              f"{r['checks_passed']}/{r['checks_run']} |")  # fmt: skip
    for r in results:
        for problem in r["problems"]:
            print(f"PROBLEM {r['command']} {problem}")
    earlier = RESULTS_DIR / "crash_cycles.json"
    if earlier.exists() and args.only != "ingest,tune,compare":  # keep the commands not rerun
        kept = json.loads(earlier.read_text())["commands"]
        ran = {r["command"] for r in results}
        results = [r for r in kept if r["command"] not in ran] + results
        results.sort(key=lambda r: list(SCENARIOS).index(r["command"]))
    path = save("crash_cycles", {"cycles_per_command": args.cycles, "seed": args.seed,
                                 "wall_s": round(time.monotonic() - started, 1),
                                 "commands": results})  # fmt: skip
    print(f"wrote {path}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
