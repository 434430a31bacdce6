"""Load on the HTTP service: concurrent /v1/search and /v1/ask over loopback.

    .venv/bin/python bench/service_load.py [--clients 16] [--requests 500]

The bundled sample is ingested with the real packaged embedder; `ragtune serve` runs as
its own process (real SmolLM2 through transformers, warmed at start) so the load generator
does not share a GIL with the server. --clients threads each send --requests searches (the
sample's evaluation questions, in turn) over keep-alive connections, twice in the same run:
against a server that embeds each query alone (`--query-batch 1`, the baseline) and one
that micro-batches concurrent queries (the default). Then a smaller set of clients ask
questions (answers are generated one at a time, by design). Records latency percentiles,
throughput, errors and the ratios in bench/results/service_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, load_jsonl, save

RAGTUNE = [sys.executable, "-m", "ragtune.cli.main"]


def run(root: Path, *args: str) -> str:
    out = subprocess.run([*RAGTUNE, "-C", str(root), *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ragtune {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hammer(url: str, key: str, path: str, bodies: list[dict], clients: int, n: int) -> dict:
    """``clients`` threads x ``n`` POSTs; latency percentiles, throughput, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
            for i in range(n):
                started = time.perf_counter()
                try:
                    r = http.post(path, json=bodies[(c * n + i) % len(bodies)])
                    problem = "" if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors.extend([problem] if problem else [])

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    p50, p95, p99 = (float(v) for v in np.percentile(latencies, [50, 95, 99]) * 1000)
    return {
        "clients": clients, "requests": len(latencies), "errors": len(errors),
        "error_samples": errors[:3], "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
        "wall_s": wall, "per_s": len(latencies) / wall,
    }  # fmt: skip


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("ragtune serve exited during start-up")
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit("ragtune serve did not start within 300 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--ask-clients", type=int, default=4)
    parser.add_argument("--ask-requests", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    questions = [r["question"] for r in load_jsonl(REPO / "examples" / "eval.jsonl")]
    root = Path(tempfile.mkdtemp(prefix="ragtune-service-bench-"))
    proc = None
    try:
        run(root, "init")
        run(root, "ingest", str(REPO / "examples" / "docs"))
        key = json.loads(run(root, "keys", "create", "-n", "bench", "--json"))["key"]
        search_bodies = [{"query": q, "k": 5} for q in questions]
        result: dict[str, Any] = {}
        for name, extra in (("baseline", ["--query-batch", "1"]), ("batched", [])):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = subprocess.Popen(
                [*RAGTUNE, "-C", str(root), "serve", "--port", str(port), "--log-level",
                 "warning", "--max-tokens", str(args.max_tokens), "--timeout", "600", *extra],
                env=os.environ,
            )  # fmt: skip
            wait_ready(url, proc)
            hammer(url, key, "/v1/search", search_bodies, 2, 10)  # warm the index caches
            result[f"search_{name}"] = hammer(
                url, key, "/v1/search", search_bodies, args.clients, args.requests
            )
            if name == "batched":
                ask_bodies = [{"question": q, "max_tokens": args.max_tokens} for q in questions]
                result["ask"] = hammer(
                    url, key, "/v1/ask", ask_bodies, args.ask_clients, args.ask_requests
                )
            proc.terminate()
            proc.wait(60)
            proc = None
        base, batched = result["search_baseline"], result["search_batched"]
        result["ratios"] = {
            "p95_batched_over_baseline": batched["p95_ms"] / base["p95_ms"],
            "throughput_batched_over_baseline": batched["per_s"] / base["per_s"],
        }
        result["max_tokens"] = args.max_tokens
        result["docs"] = (
            "examples/docs (bundled sample), MiniLM embedder, SmolLM2-135M transformers"
        )
        for name in ("search_baseline", "search_batched", "ask"):
            r = result[name]
            print(
                f"{name}: {r['clients']} clients, {r['requests']} requests, {r['errors']} "
                f"errors, p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
                f"p99 {r['p99_ms']:.0f} ms, {r['per_s']:.1f}/s"
            )
        print(
            f"batched / baseline: p95 x{result['ratios']['p95_batched_over_baseline']:.2f}, "
            f"throughput x{result['ratios']['throughput_batched_over_baseline']:.2f}"
        )
        save("service_load", result)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
