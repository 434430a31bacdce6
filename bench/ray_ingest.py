"""Ingest throughput: the single-process pipeline vs ``ingest --ray`` on a local two-node
Ray cluster, same documents, same run (issue 22, item 3).

    nice .venv/bin/python bench/ray_ingest.py [--docs PATH] [--shard 64]

Re-runs itself inside a network namespace that has only the loopback interface
(``unshare --net``; Ray otherwise binds the machine's external address). The documents
(default: the first 25 files of the Python library docs in ../shared/benchdata) are
ingested with the packaged MiniLM three ways: the plain pipeline; Ray with one node of
2 CPUs; Ray with two nodes of 1 CPU each (the same 2 cores: parity expected here). Per
shard: node, chunks, seconds; from those, chunks/s per CPU, which is what more machines
would multiply.
Writes bench/results/ray_ingest.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import save

DATA = Path(__file__).resolve().parent / ".data"
DOCS = DATA / "benchdata" / "corpus" / "library"


def sample_folder(source: Path, files: int) -> Path:
    folder = DATA / "ray_ingest_docs"
    if not folder.exists():
        folder.mkdir(parents=True)
        for path in sorted(p for p in source.rglob("*") if p.is_file())[:files]:
            (folder / path.name).symlink_to(path.resolve())
    return folder


def plain(docs: Path, root: Path) -> dict[str, Any]:
    from ragtune.config import Settings
    from ragtune.project import Project

    project = Project.init(root, Settings.load(None))
    project.embedder.embed(["warm up"])  # model load is not ingest throughput
    started = time.perf_counter()
    report = project.ingest([docs])
    seconds = time.perf_counter() - started
    project.close()
    return {
        "seconds": seconds,
        "chunks": report.n_chunks,
        "chunks_per_s": report.n_chunks / seconds,
    }


def on_ray(docs: Path, root: Path, nodes: int, shard: int) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    from ragtune.config import Settings
    from ragtune.project import Project

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2 // nodes})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=2 // nodes)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    from ragtune.distributed import ray_embed

    ray_embed.SHARD = shard
    warm = ray.remote(ray_embed._embed_shard)  # load the model in every worker first
    settings = Settings.load(None)
    ray.get([warm.options(num_cpus=1).remote(settings.model_dump_json(), ["warm up"])
             for _ in range(2)])  # fmt: skip
    project = Project.init(root, settings)
    started = time.perf_counter()
    report = project.ingest([docs], ray=cluster.address)
    seconds = time.perf_counter() - started
    project.close()
    ray.shutdown()
    cluster.shutdown()
    shards = report.shards
    per_node: dict[str, dict[str, float]] = {}
    for s in shards:
        node = per_node.setdefault(s["node"][:8], {"shards": 0, "chunks": 0, "seconds": 0.0})
        node["shards"] += 1
        node["chunks"] += s["chunks"]
        node["seconds"] += s["seconds"]
    rates = [s["chunks"] / s["seconds"] for s in shards if s["seconds"] > 0]
    return {
        "nodes": nodes, "seconds": seconds, "chunks": report.n_chunks,
        "chunks_per_s": report.n_chunks / seconds, "per_node": per_node,
        "shard_chunks_per_s_median": statistics.median(rates) if rates else 0.0,
    }  # fmt: skip


def inside(args: argparse.Namespace) -> None:
    from tests.helpers.ray_job import loopback_up

    loopback_up()
    docs = sample_folder(Path(args.docs), args.files)
    work = DATA / "ray_ingest_projects"
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {"docs": str(args.docs), "files": args.files, "shard": args.shard}
    result["plain"] = plain(docs, work / "plain")
    result["ray_1_node"] = on_ray(docs, work / "ray1", 1, args.shard)
    result["ray_2_nodes"] = on_ray(docs, work / "ray2", 2, args.shard)
    base = result["plain"]["chunks_per_s"]
    for key in ("ray_1_node", "ray_2_nodes"):
        result[key]["ratio_vs_plain"] = result[key]["chunks_per_s"] / base
    # on paper: each added 2-CPU machine adds what one 1-CPU worker embeds, times two
    per_cpu = result["ray_2_nodes"]["shard_chunks_per_s_median"]
    result["per_cpu_chunks_per_s"] = per_cpu
    result["paper_1M_chunks_hours"] = {
        str(n): round(1_000_000 / (per_cpu * 2 * n) / 3600, 1) for n in (1, 4, 16)
    }
    print(save("ray_ingest", result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", default=str(DOCS), help="a folder of documents")
    ap.add_argument("--files", type=int, default=25, help="files taken from it")
    ap.add_argument("--shard", type=int, default=64, help="chunk texts per Ray task")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        inside(args)
        return
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = ["unshare", "--net", sys.executable, __file__, "--inside", "--docs", args.docs,
           "--files", str(args.files), "--shard", str(args.shard)]  # fmt: skip
    sys.exit(subprocess.run(cmd, env=env).returncode)


if __name__ == "__main__":
    main()
