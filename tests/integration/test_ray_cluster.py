"""``ingest --ray``: a local two-node Ray cluster, its worker node killed mid-job; the
ingest still finishes, with the vectors a local embedding gives (tests/helpers/ray_job.py).

The cluster runs in a network namespace that has only the loopback interface, so Ray cannot
bind or reach any other address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _namespace_works() -> bool:
    try:
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_a_killed_worker_node_does_not_lose_the_ingest(tmp_path: Path) -> None:
    if not _namespace_works():
        pytest.skip(
            "cannot create a network namespace here (unshare --net needs root or "
            "unprivileged user namespaces); Ray must not bind external interfaces"
        )
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    run = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "tests.helpers.ray_job", str(tmp_path)],
        capture_output=True, text=True, timeout=280, cwd=REPO, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    worker = result["worker_node"]
    shard_nodes = [s["node"] for s in result["shards"]]
    assert result["killed"], "the worker node finished no shard before the job ended"
    assert worker in shard_nodes  # it took part ...
    assert worker not in result["alive_nodes"]  # ... and was killed
    assert result["killed"]["after_shards"] < len(shard_nodes)  # before the job's end
    counts = result["ray"]["counts"]
    assert counts["added"] == 39 and counts["failed"] == 0
    assert result["ray"]["chunks_written"] == result["chunks"] > 300
    assert sum(s["chunks"] for s in result["shards"]) == result["chunks"]
    assert result["max_abs_diff"] < 1e-5  # the vectors a local embedding gives
