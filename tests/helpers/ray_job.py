"""``ingest --ray`` and ``pilot --ray``'s pool on a local two-node Ray cluster, the worker
node killed mid-job each time.

Run by tests/integration/test_ray_cluster.py inside a network namespace that has only the
loopback interface (``unshare --net``): Ray otherwise binds the machine's external address.
Writes OUT_DIR/result.json: the ingest report, when the node was killed, how far the stored
vectors are from the same chunks embedded in this process, and what the pool's jobs did.

    unshare --net python -m tests.helpers.ray_job OUT_DIR
"""

from __future__ import annotations

import fcntl
import json
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def loopback_up() -> None:
    """``ip link set lo up`` without iproute2: SIOCGIFFLAGS / SIOCSIFFLAGS on "lo"."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def main(out: Path) -> None:
    loopback_up()
    import ray
    from ray.cluster_utils import Cluster

    from ragtune.config import Settings
    from ragtune.distributed.ray_embed import RayEmbedder
    from ragtune.ingest.pipeline import Ingestor
    from ragtune.project import Project

    docs = REPO / "examples" / "docs"
    settings = Settings.load(None)  # the packaged MiniLM, as a user's ingest would
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    killed: dict[str, object] = {}
    started = time.perf_counter()

    def kill_worker_node() -> None:
        killed["at_s"] = time.perf_counter() - started
        cluster.remove_node(worker, allow_graceful=False)

    def on_shard(info: dict[str, object]) -> None:
        # the worker node has finished a shard (so it was taking part): kill it now,
        # with other shards still queued or running on it
        if info["node"] == worker.node_id and not killed:
            killed["after_shards"] = len(embedder.shards)
            threading.Thread(target=kill_worker_node, daemon=True).start()

    project = Project.init(out / "ray", settings)
    project.store.check_embedder(project.embedder.name, project.embedder.dim)
    embedder = RayEmbedder(project.embedder, settings, cluster.address, shard=16,
                           on_shard=on_shard)  # fmt: skip
    report = Ingestor(project.store, embedder, settings).run([docs])
    seconds = time.perf_counter() - started
    alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    # the same chunks embedded here, in this process: a sample spread over every shard
    rowids, matrix = project.store.iter_vectors()
    sample = np.linspace(0, len(rowids) - 1, 48).astype(int)
    found = project.store.chunks_by_rowid([int(rowids[i]) for i in sample])
    texts = [_text(*found[int(rowids[i])]) for i in sample]
    local = project.embedder.embed(texts)
    result = {
        "ray": report.to_dict(), "shards": embedder.shards, "ray_seconds": seconds,
        "killed": killed,
        "alive_nodes": alive, "worker_node": worker.node_id, "chunks": len(rowids),
        "max_abs_diff": float(np.abs(local - matrix[sample]).max()),
    }  # fmt: skip
    result["pool"] = pool_jobs(cluster)  # a fresh worker node, killed in its turn
    # a file, not stdout: the raylets of nodes added later print their logs there
    (out / "result.json").write_text(json.dumps(result))
    ray.shutdown()
    cluster.shutdown()


def sleepy(n: int, seconds: float, channel) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A pilot-like job: says where it started, works, returns a result of its input."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    channel.put(("started", n, node, channel.use_threads()))
    time.sleep(seconds)
    return {"n": n, "square": n * n, "node": node}


def failing(channel) -> None:  # type: ignore[no-untyped-def]
    from ragtune.errors import RagtuneError

    raise RagtuneError("job failed on purpose", "a hint")


def pool_jobs(cluster) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The pilot's pool on the cluster (``pilot --ray``): six jobs, the worker node killed
    as soon as a job has started on it; then a failing job."""
    from ragtune.distributed.ray_pool import RayPool
    from ragtune.errors import RagtuneError
    from ragtune.workers import Job

    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    started, done, killed = [], {}, {}

    def heard(message: tuple) -> None:  # type: ignore[type-arg]
        started.append(list(message))
        if message[2] == worker.node_id and not killed:
            killed["after_started"] = len(started)
            threading.Thread(target=cluster.remove_node, args=(worker, False), daemon=True).start()

    with RayPool(cluster.address) as pool:
        workers = pool.workers
        for n in range(6):
            pool.submit(Job(sleepy, (n, 3.0), on_message=heard,
                            on_done=lambda out, n=n: done.__setitem__(n, out)))  # fmt: skip
        pool.wait()
    error = None
    try:
        with RayPool(cluster.address, 1) as pool:
            pool.submit(Job(failing))
            pool.wait()
    except RagtuneError as exc:
        error = [type(exc).__name__, str(exc), exc.hint]
    return {"workers": workers, "started": started, "done": done, "killed": killed,
            "worker_node": worker.node_id, "error": error}  # fmt: skip


def _text(chunk, doc) -> str:  # type: ignore[no-untyped-def]
    from ragtune.ingest.pipeline import _embedding_text

    return _embedding_text(doc.title, chunk.section, chunk.text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
