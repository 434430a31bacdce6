"""QueryBatcher on its own (a counting fake embedder) and through the real service."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from tests.helpers.service import serve_app
from tests.service.conftest import make_keys, make_project

from ragtune.embed.base import HashEmbedder, embed_queries
from ragtune.service.app import create_app
from ragtune.service.batching import QueryBatcher
from ragtune.service.deps import ServiceConfig


class CountingEmbedder:
    """Records each call's texts; slow enough that concurrent queries pile up."""

    def __init__(self, seconds: float = 0.02, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.inner = HashEmbedder()
        self.seconds = seconds
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self.lock:
            self.calls.append(list(texts))
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("embedder broke")
        return self.inner.embed(texts)


def run_batcher(embed: CountingEmbedder, texts: list[str], **kw: float) -> list[np.ndarray]:
    async def main() -> list[np.ndarray]:
        with ThreadPoolExecutor(1) as pool:
            batcher = QueryBatcher(embed, pool, **kw)  # type: ignore[arg-type]
            return list(await asyncio.gather(*(batcher.embed(t) for t in texts)))

    return asyncio.run(main())


def test_concurrent_queries_share_batches_and_each_gets_its_own_vector() -> None:
    embed = CountingEmbedder()
    texts = [f"question number {i}" for i in range(40)]
    vectors = run_batcher(embed, texts)
    reference = HashEmbedder()
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vector, reference.embed_query(text), atol=1e-6)
    assert len(embed.calls) == 1, [len(c) for c in embed.calls]  # all arrived together


def test_batches_are_capped_and_repeated_queries_embedded_once() -> None:
    embed = CountingEmbedder()
    vectors = run_batcher(embed, ["a b", "c d", "a b", "e f", "g h"], max_batch=2)
    assert [len(c) for c in embed.calls] == [2, 2, 1]  # ["a b", "c d"], ["a b", "e f"], ["g h"]
    np.testing.assert_allclose(vectors[0], vectors[2])
    embed = CountingEmbedder()
    run_batcher(embed, ["same"] * 10)
    assert embed.calls == [["same"]]


def test_queries_arriving_during_a_batch_form_the_next_one() -> None:
    embed = CountingEmbedder(seconds=0.1)

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            batcher = QueryBatcher(embed, pool, window_s=0.0)  # type: ignore[arg-type]
            first = asyncio.ensure_future(batcher.embed("first"))
            await asyncio.sleep(0.03)  # the first batch is running
            later = [asyncio.ensure_future(batcher.embed(f"later {i}")) for i in range(5)]
            await asyncio.gather(first, *later)
            assert (batcher.batches, batcher.queries) == (2, 6)

    asyncio.run(main())
    assert [len(c) for c in embed.calls] == [1, 5]


def test_an_embedder_error_reaches_every_waiting_query_and_the_batcher_recovers() -> None:
    embed = CountingEmbedder(fail=True)

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            batcher = QueryBatcher(embed, pool)  # type: ignore[arg-type]
            results = await asyncio.gather(
                *(batcher.embed(t) for t in ("x", "y")), return_exceptions=True
            )
            assert all(isinstance(r, RuntimeError) for r in results), results
            embed.fail = False
            assert (await batcher.embed("z")).shape == (HashEmbedder().dim,)

    asyncio.run(main())


def test_a_cancelled_query_is_not_embedded() -> None:
    embed = CountingEmbedder()

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            batcher = QueryBatcher(embed, pool, window_s=0.05)  # type: ignore[arg-type]
            gone = asyncio.ensure_future(batcher.embed("client went away"))
            kept = asyncio.ensure_future(batcher.embed("kept"))
            await asyncio.sleep(0)
            gone.cancel()
            await kept

    asyncio.run(main())
    assert embed.calls == [["kept"]]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(CountingEmbedder(), ThreadPoolExecutor(1), max_batch=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="query_batch"):
        ServiceConfig(query_batch=0)


def test_embed_queries_falls_back_to_one_query_at_a_time() -> None:
    class OnlyQuery:
        def embed_query(self, text: str) -> np.ndarray:
            return HashEmbedder().embed_query(text)

    out = embed_queries(OnlyQuery(), ["a", "b c"])  # type: ignore[arg-type]
    np.testing.assert_allclose(out, HashEmbedder().embed(["a", "b c"]))


def test_batched_searches_return_what_unbatched_ones_do(tmp_path: Path) -> None:
    """16 concurrent searches through a real server, batched and one at a time: the same
    hits, in the same order, with the same scores."""
    project = make_project(tmp_path / "proj")
    keys = make_keys(project)
    queries = ["vacation days", "spring holiday", "salary review", "budget", "office"] * 4
    found: dict[int, list[list[tuple[str, float]]]] = {}
    auth = {"Authorization": f"Bearer {keys.admin}"}
    for batch in (64, 1):
        config = ServiceConfig(query_batch=batch, query_window_ms=20)
        with serve_app(create_app(project, config)) as url:
            results: list[list[tuple[str, float]]] = [[] for _ in queries]

            def search(i: int, url: str = url, results: list = results) -> None:  # type: ignore[type-arg]
                body = {"query": queries[i], "k": 3}
                r = httpx.post(f"{url}/v1/search", json=body, headers=auth, timeout=60)
                assert r.status_code == 200, r.text
                results[i] = [(h["chunk"]["id"], round(h["score"], 5)) for h in r.json()["data"]]

            threads = [threading.Thread(target=search, args=(i,)) for i in range(len(queries))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            found[batch] = results
            metrics = httpx.get(f"{url}/metrics", timeout=60,
                                headers={"Authorization": f"Bearer {keys.admin}"}).text  # fmt: skip
            batches = [line for line in metrics.splitlines()
                       if line.startswith("ragtune_query_batch_size_count")]  # fmt: skip
            if batch == 1:  # no batcher: nothing observed
                assert batches == ["ragtune_query_batch_size_count 0.0"], batches
            else:  # 16 threads at once: some queries shared an embedder call
                assert 1 <= float(batches[0].split()[1]) < len(queries), batches
    project.close()
    assert found[64] == found[1]
    assert all(found[1]), found[1]
