"""``ingest --ray`` and ``pilot --ray``'s pool on a local two-node Ray cluster, the worker
node killed mid-job each time: the ingest still finishes with the vectors a local embedding
gives, and every pool job still returns its result (tests/helpers/ray_job.py; one cluster
for both, started once).

The cluster runs in a network namespace that has only the loopback interface, so Ray cannot
bind or reach any other address."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _namespace_works() -> bool:
    try:
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not _namespace_works():
        pytest.skip(
            "cannot create a network namespace here (unshare --net needs root or "
            "unprivileged user namespaces); Ray must not bind external interfaces"
        )
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    out = tmp_path_factory.mktemp("ray")
    run = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "tests.helpers.ray_job", str(out)],
        capture_output=True, text=True, timeout=400, cwd=REPO, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict = json.loads((out / "result.json").read_text())
    return result


def test_a_killed_worker_node_does_not_lose_the_ingest(cluster_run: dict) -> None:
    result = cluster_run
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


def test_a_killed_worker_node_does_not_lose_a_pilot_job(cluster_run: dict) -> None:
    pool = cluster_run["pool"]
    assert pool["workers"] == 2  # one job per CPU of the cluster
    assert pool["killed"], "no job started on the worker node"
    lost = {m[1] for m in pool["started"] if m[2] == pool["worker_node"]}
    assert lost  # jobs were running there when it was killed (each runs 3 s) ...
    for n in lost:  # ... were run again on the node left, and returned from there
        assert [m[2] for m in pool["started"] if m[1] == n][-1] != pool["worker_node"]
        assert pool["done"][str(n)]["node"] != pool["worker_node"]
    # every job returned its own result exactly once
    assert {int(n): out["square"] for n, out in pool["done"].items()} == {
        n: n * n for n in range(6)
    }
    assert all(m[3] == 1 for m in pool["started"])  # one torch thread per task
    # a job's own error comes back as itself, not as Ray's wrapper
    assert pool["error"] == ["RagtuneError", "job failed on purpose (a hint)", "a hint"]
