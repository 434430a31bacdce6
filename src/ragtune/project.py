"""Project: a folder with ``ragtune.toml`` and ``.ragtune/`` state; the one object passed around.

Example::

    from ragtune import Project
    project = Project.init("handbook")          # or Project.open("handbook")
    project.ingest(["handbook/docs"])
    for hit in project.search("parental leave", k=3, filters="department = hr"):
        print(hit.score, hit.title, hit.chunk.section)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.builtin_backends import load_builtins
from ragtune.config import CONFIG_FILE, Settings, default_toml
from ragtune.errors import ProjectNotFoundError, UsageError
from ragtune.paths import ProjectPaths
from ragtune.types import Answer, Document, IngestReport, ScoredChunk

if TYPE_CHECKING:  # heavy or circular at import time; only the type checker needs them
    import numpy as np

    from ragtune.embed.base import Embedder
    from ragtune.generate.base import Generator
    from ragtune.retrieval.hybrid import Retriever
    from ragtune.store.base import DenseSearch, Store
    from ragtune.strategies import AnswerSystem

STATE_DIR = ".ragtune"


class Project:
    def __init__(self, root: Path | str, settings: Settings | None = None) -> None:
        self.root = Path(root).resolve()
        self.settings = settings if settings is not None else Settings.load(self.root)
        load_builtins()

    # -- locating ----------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path | str = ".", settings: Settings | None = None) -> Project:
        """Create ``ragtune.toml`` (if missing) and ``.ragtune/`` in ``root``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_FILE
        if not config.exists():
            config.write_text(default_toml())
        (root / STATE_DIR).mkdir(exist_ok=True)
        return cls(root, settings)

    @classmethod
    def find_root(cls, start: Path | str = ".") -> Path:
        here = Path(start).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_FILE).is_file() or (folder / STATE_DIR).is_dir():
                return folder
        raise ProjectNotFoundError(
            f"no ragtune project in {here} or its parents", "run `ragtune init` there first"
        )

    @classmethod
    def open(cls, path: Path | str = ".", settings: Settings | None = None) -> Project:
        """Open the project at ``path`` or the nearest parent folder that holds one."""
        return cls(cls.find_root(path), settings)

    def with_settings(self, **sections: Mapping[str, Any]) -> Project:
        """A project on the same folder with some settings changed, checked like the config
        file; this one is left as it is. ``project.with_settings(retrieval={"k": 2})``."""
        data = self.settings.model_dump()
        for name, values in sections.items():
            if name not in data:
                raise UsageError(f"no settings section {name!r}")
            data[name] = {**data[name], **values}
        return Project(self.root, Settings.model_validate(data))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def paths(self) -> ProjectPaths:
        """Where each kind of state lives (``ragtune.paths``)."""
        return ProjectPaths(self.state_dir)

    @property
    def db_path(self) -> Path:
        return self.paths.db

    # -- components (built lazily, once) -----------------------------------------------
    @cached_property
    def store(self) -> Store:
        from ragtune.registry import stores

        config = self.settings.store
        if config.backend == "postgres":
            if not config.dsn:
                raise UsageError(
                    "store.backend is postgres, but store.dsn is empty",
                    "set store.dsn in ragtune.toml or RAGTUNE_STORE__DSN",
                )
            import ragtune.store.postgres  # noqa: F401  (registers the backend)

            pg: Store = stores.create("postgres", config.dsn, cache_dir=self.index_dir)
            return pg
        store: Store = stores.create(
            "sqlite", self.db_path, bm25_index=self.settings.retrieval.bm25_index
        )
        return store

    @cached_property
    def dense_index(self) -> DenseSearch:
        from ragtune.store.vectors import DenseIndex

        if self.settings.store.backend == "postgres":
            from ragtune.store.pgvector_index import PgVectorIndex
            from ragtune.store.postgres import PostgresStore

            assert isinstance(self.store, PostgresStore)
            return PgVectorIndex.configured(self.store, self.settings.retrieval)
        return DenseIndex.configured(self.store, self.index_dir, self.settings.retrieval)

    @property
    def index_dir(self) -> Path:
        """Derived search indexes (dense vectors, HNSW graph, BM25), rebuilt when stale."""
        return self.paths.index

    @cached_property
    def embedder(self) -> Embedder:
        from ragtune.registry import embedders

        embedder: Embedder = embedders.create(self.settings.embedder.name, self.settings)
        return embedder

    @cached_property
    def retriever(self) -> Retriever:
        from ragtune.registry import rerankers
        from ragtune.retrieval.hybrid import Retriever

        reranker = rerankers.create(self.settings.rerank.name, self.settings)
        return Retriever(
            self.store, self.dense_index, self.embedder, self.settings.retrieval, reranker,
            rerank_top_n=self.settings.rerank.top_n,
        )  # fmt: skip

    def generator(self, backend: str | None = None, model: str | None = None) -> Generator:
        """The generator for ``backend``/``model`` (config defaults), built once and reused."""
        from ragtune.registry import generators

        g = self.settings.generator
        backend, model = backend or g.backend, g.model if model is None else model
        cache: dict[tuple[str, str], Generator] = self.__dict__.setdefault("_generators", {})
        if (backend, model) not in cache:
            settings = self.settings.model_copy(
                update={"generator": g.model_copy(update={"backend": backend, "model": model})}
            )
            cache[(backend, model)] = generators.create(backend, settings)
        return cache[(backend, model)]

    def adapter_generator(self, adapter: str, backend: str | None = None) -> Generator:
        """A generator running a registered adapter (the policy: which backend runs which
        kind of adapter, and what is shared, is :func:`ragtune.finetune.loading.generator`)."""
        from ragtune.finetune import loading

        return loading.generator(self, adapter, backend)

    def answer_system(
        self,
        strategy: str = "rag",
        backend: str | None = None,
        model: str | None = None,
        options: Mapping[str, Any] | None = None,
        adapter: str | None = None,
    ) -> AnswerSystem:
        """The AnswerSystem for a strategy name (see ``ragtune.registry.strategies``);
        ``options`` override generation settings, e.g. ``{"max_new_tokens": 64}``;
        ``adapter`` runs a registered adapter (required by ``ft``, ``ft+rag`` and
        ``raft+rag``; with ``rag`` it makes the same system as ``ft+rag``)."""
        from ragtune.registry import strategies
        from ragtune.strategy_table import info

        known = info(strategy)
        if known is not None and known.needs_adapter and not adapter:
            raise UsageError(f"the {strategy} strategy needs an adapter", "pass --adapter NAME")
        if known is not None and not known.generator and adapter:
            raise UsageError(f"the {strategy} strategy runs no model, so it takes no adapter")

        def make_generator() -> Generator:
            if adapter:
                return self.adapter_generator(adapter, backend)
            return self.generator(backend, model)

        system: AnswerSystem = strategies.create(strategy, self, make_generator)
        system.options = system.options.merged(options)
        system.adapter = adapter or ""
        return system

    # -- operations --------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path | str], *, ray: str | None = None, **options: Any
    ) -> IngestReport:
        """See :meth:`ragtune.ingest.pipeline.Ingestor.run` for the options. ``ray``: embed
        on a Ray cluster (``auto``, ``local`` or an address; :mod:`ragtune.distributed`)."""
        from ragtune.ingest.pipeline import Ingestor

        self.store.check_embedder(self.embedder.name, self.embedder.dim)
        embedder = self.embedder
        if ray:
            from ragtune.distributed.ray_embed import RayEmbedder

            embedder = RayEmbedder(self.embedder, self.settings, ray)
        report = Ingestor(self.store, embedder, self.settings).run(paths, **options)
        if ray:
            report.shards = list(getattr(embedder, "shards", []))
        if report.n_chunks or report.counts()["removed"]:
            self.store.refresh_bm25()  # now, not in the first search (22 s at 100k chunks)
            self.dense_index.refresh()  # the HNSW graph too (13 s at 100k chunks)
        return report

    def search(
        self,
        query: str,
        *,
        mode: str | None = None,
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[ScoredChunk]:
        """Top-``k`` chunks for ``query``; ``groups`` limits results to what they may read.
        ``query_vector``: the query's embedding, when the caller has already computed it."""
        return self.retriever.search(
            query, mode=mode, k=k, filters=filters, groups=groups, query_vector=query_vector
        )

    def ask(
        self,
        question: str,
        *,
        strategy: str = "rag",
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        backend: str | None = None,
        model: str | None = None,
        on_token: Callable[[str], None] | None = None,
        options: Mapping[str, Any] | None = None,
        adapter: str | None = None,
    ) -> Answer:
        """Answer ``question`` with a strategy (``rag`` cites the documents, ``base`` does
        not retrieve, ``ft`` runs ``adapter`` without retrieval). ``on_token`` receives the
        answer as it streams."""
        system = self.answer_system(strategy, backend, model, options, adapter)
        return system.answer(question, k=k, filters=filters, groups=groups, on_token=on_token)

    def documents(self) -> list[Document]:
        return self.store.list_documents()

    def document(self, doc_id: str) -> Document:
        """One stored document; :class:`NotFoundError` when there is none."""
        return self.store.get_document(doc_id)

    def remove(self, doc_id: str) -> bool:
        """Remove a document; False when it was not stored."""
        return self.store.delete_document(doc_id)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
