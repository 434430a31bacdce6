"""The pilot with its jobs in the local pool vs as Ray tasks (``pilot --ray``), same run.

    nice .venv/bin/python bench/ray_pilot.py [--questions 12] [--steps 10]

Runs one short pilot on the bundled sample twice in fresh projects: with the local pool of
two 1-thread worker processes, then with ``--ray local`` (a one-node Ray cluster of this
machine's 2 CPUs) inside a network namespace that has only the loopback interface
(``unshare --net``; Ray otherwise binds the machine's external address). Compares the wall
time, the recommendation and every strategy's scores. Writes bench/results/ray_pilot.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import save

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / ".data" / "ray_pilot"
# the CLI behind a raised loopback interface (a new network namespace starts with lo down)
RAY_CLI = (
    "from tests.helpers.ray_job import loopback_up; loopback_up(); "
    "from ragtune.cli.main import main; main()"
)


def pilot(name: str, args: argparse.Namespace, ray: bool) -> dict[str, Any]:
    root = DATA / name
    shutil.rmtree(root, ignore_errors=True)
    knobs = [
        "pilot", str(REPO / "examples" / "docs"), "--eval", str(REPO / "examples" / "eval.jsonl"),
        "-n", str(args.questions), "--knowledge-steps", str(args.steps),
        "--raft-steps", str(args.steps), "--seed", "0", "--json",
    ]  # fmt: skip
    if ray:
        command = ["unshare", "--net", sys.executable, "-c", RAY_CLI, "-C", str(root), *knobs]
        command += ["--ray", "local"]
    else:
        command = [sys.executable, "-m", "ragtune.cli.main", "-C", str(root), *knobs]
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"{name} pilot failed:\n{run.stderr[-3000:]}")
    outcome = json.loads(run.stdout[run.stdout.index("{") :])
    results = json.loads(Path(outcome["results"]).read_text())
    scores = {  # metrics[group][metric][strategy] = {"mean": ..., ...}
        f"{group}/{metric}/{label}": cell.get("mean")
        for group, metrics in results["metrics"].items()
        for metric, per in metrics.items() if isinstance(per, dict)
        for label, cell in per.items() if isinstance(cell, dict)
    }  # fmt: skip
    return {
        "wall_s": wall,
        "workers": outcome["workers"],
        "stages": {s["stage"]: round(s["seconds"], 1) for s in outcome["stages"]},
        "recommendation": outcome["recommendation"]["strategy"],
        "scores": scores,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=int, default=12)
    ap.add_argument("--steps", type=int, default=10, help="knowledge and RAFT LoRA steps")
    args = ap.parse_args()
    local = pilot("local", args, ray=False)
    on_ray = pilot("ray", args, ray=True)
    differ = {
        name: [value, on_ray["scores"].get(name)]
        for name, value in local["scores"].items()
        if value != on_ray["scores"].get(name)
    }
    result = {"local": local, "ray": on_ray, "scores_compared": len(local["scores"]),
              "differing_scores": differ, "recommendations": [local["recommendation"],
              on_ray["recommendation"]],
              "ray_over_local": on_ray["wall_s"] / local["wall_s"]}  # fmt: skip
    print(json.dumps({k: v for k, v in result.items() if k != "local" and k != "ray"}, indent=1))
    print(save("ray_pilot", result))


if __name__ == "__main__":
    main()
