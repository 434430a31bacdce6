"""Settings: ``ragtune.toml`` in the project root, overridden by ``RAGTUNE_*`` env vars.

Nested fields use ``__`` in env names, e.g. ``RAGTUNE_RETRIEVAL__MODE=bm25``.
There is no import-time instance: call :meth:`Settings.load` and pass the object on.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ragtune.errors import ConfigError

CONFIG_FILE = "ragtune.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbedderSettings(_Section):
    name: str = Field("minilm", description="Embedder backend: minilm (packaged) or hash (tests).")
    model_path: str = Field("", description="Local sentence-transformers folder; empty = packaged.")
    batch_size: int = Field(32, ge=1, le=1024, description="Chunks embedded per batch.")


class ChunkingSettings(_Section):
    size: int = Field(192, ge=16, le=8192, description="Target chunk size in embedder tokens.")
    overlap: int = Field(32, ge=0, description="Tokens repeated from the previous chunk.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.overlap >= self.size:
            raise ValueError(f"chunking.overlap ({self.overlap}) must be < size ({self.size})")
        return self


class RetrievalSettings(_Section):
    mode: Literal["bm25", "dense", "hybrid"] = Field("hybrid", description="Default search mode.")
    k: int = Field(5, ge=1, le=1000, description="Results returned by default.")
    fusion: Literal["lead_rrf", "rrf", "convex", "dbsf"] = Field(
        "lead_rrf",
        description="Hybrid fusion: lead_rrf (reciprocal ranks, each list weighted by how far "
        "its best hit stands above the rest), rrf (reciprocal ranks), convex (min-max scores "
        "mixed by alpha) or dbsf (scores normalised by mean +/- 3 sd, summed). lead_rrf was "
        "the only one at or above the best single retriever on both Python FAQ variants "
        "(bench/fusion_faq.py).",
    )
    rrf_k: int = Field(60, ge=1, description="RRF constant: score = sum 1/(rrf_k + rank).")
    alpha: float = Field(
        0.5, ge=0.0, le=1.0, description="Convex fusion weight of dense (1-alpha goes to BM25)."
    )
    candidates: int = Field(50, ge=1, le=10000, description="Hits per retriever before fusion.")
    lift_openings: bool = Field(
        True,
        description="Hybrid: when a later chunk of a section is a hit and the chunk holding "
        "the section's heading is a candidate too, put the heading's chunk first (answers "
        "start under their heading).",
    )
    bm25_index: bool = Field(
        True,
        description="Rank BM25 from an in-memory index with FTS5's scores (index/bm25.npz; "
        "~12 bytes per chunk term) instead of FTS5 itself: same results, faster on large stores.",
    )
    dense_index: Literal["auto", "exact", "hnsw"] = Field(
        "auto",
        description="Dense search: exact (every vector scored), hnsw (a faiss HNSW graph in "
        "index/hnsw.faiss, approximate; exact where filters allow few chunks) or auto (hnsw "
        "from ann_min_chunks on).",
    )
    ann_min_chunks: int = Field(
        50_000, ge=0, description="With dense_index = auto: chunks from which HNSW answers."
    )
    hnsw_ef_search: int = Field(
        384,
        ge=1,
        le=4096,
        description="Smallest HNSW candidate list per query; a top-k search among n chunks "
        "uses max(this, 16 k (1 + log10(n / 100k))). Higher finds more of the exact top-k, "
        "slower (1M vectors, top-50: 384 found 0.89 in 3.5 ms, 1600 found 0.95 in 12 ms; "
        "bench/ann_speed.py).",
    )


class StoreSettings(_Section):
    backend: Literal["sqlite", "postgres"] = Field(
        "sqlite",
        description="Where documents, chunks and vectors live: sqlite (.ragtune/ragtune.db, "
        "embedded) or postgres (PostgreSQL + pgvector at dsn; pip install 'ragtune[postgres]').",
    )
    dsn: str = Field(
        "",
        description="With backend = postgres: a libpq connection string or URI, e.g. "
        "postgresql://user@127.0.0.1:5432/ragtune (a password is better kept in "
        "RAGTUNE_STORE__DSN than here).",
    )


class RerankSettings(_Section):
    name: str = Field("none", description="Reranker: none, or cross-encoder (needs model_path).")
    model_path: str = Field("", description="Local CrossEncoder folder (none ships offline).")
    top_n: int = Field(20, ge=1, description="Hits passed to the reranker.")


class GeneratorSettings(_Section):
    backend: str = Field(
        "transformers", description="Generator backend: transformers, llamacpp or openai."
    )
    model: str = Field(
        "",
        description="Model: a local HF folder or a .gguf file; empty = packaged SmolLM2-135M "
        "(transformers, llamacpp). For openai: the served model name.",
    )
    # 64 tokens and a blank-line stop: the packaged 135M model's rag answers were as good or
    # better and 2.6x faster than with 128 and no stop (bench/small_model.py --sweep).
    max_new_tokens: int = Field(64, ge=1, le=8192, description="Answer length cap in tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy (reproducible).")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling (temperature > 0).")
    repetition_penalty: float = Field(
        1.1, ge=1.0, le=2.0, description="> 1 discourages loops (small models repeat)."
    )
    penalize_prompt: bool = Field(
        False,
        description="Apply repetition_penalty to prompt tokens too (transformers' own "
        "behaviour); off: only the answer's tokens count, so quoting a passage is not "
        "penalised (transformers backend).",
    )
    stop: list[str] = Field(
        default_factory=lambda: ["\n\n"],
        description="Extra stop sequences (default: a blank line ends the answer).",
    )
    seed: int = Field(0, description="Sampling seed (temperature > 0).")
    batch_size: int = Field(
        16,
        ge=1,
        le=256,
        description="Prompts generated together. On CPU, decoding streams every weight once "
        "per step whatever the batch, so 16 short prompts took 0.62x the time of two batches "
        "of 8 with the packaged model; 32 long RAG prompts were slower than 16 (prefill).",
    )
    threads: int = Field(0, ge=0, description="CPU threads; 0 = all cores.")
    context_window: int = Field(0, ge=0, description="Override the model's context; 0 = model's.")
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="OpenAI-compatible server URL (openai backend)."
    )
    openai_api_key_env: str = Field(
        "OPENAI_API_KEY", description="Name of the env var holding the key (never the key)."
    )
    timeout_s: float = Field(120.0, gt=0, description="Per-request timeout (openai backend).")


class PromptSettings(_Section):
    system: str = Field(
        "You answer questions using only the numbered context passages. Cite the passage you "
        "used like [1]. If the passages do not contain the answer, reply exactly: "
        "I cannot answer from the documents.",
        description="System prompt for rag (replaces the model's built-in one).",
    )
    base_system: str = Field(
        "You are a concise assistant. Answer the question in one or two sentences.",
        description="System prompt for the base strategy (no retrieval).",
    )
    context_tokens: int = Field(
        512,
        ge=32,
        description="Token budget for context passages (~3 passages; long prompts are slow, "
        "and 1024 did not answer better with the packaged model).",
    )


class IngestSettings(_Section):
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are refused.")
    include: list[str] = Field(
        default_factory=lambda: ["*.md", "*.markdown", "*.txt", "*.html", "*.htm", "*.pdf"],
        description="Glob patterns of files to ingest.",
    )
    exclude: list[str] = Field(
        default_factory=lambda: [".*", "_*", "node_modules"],
        description="Glob patterns skipped (matched against names and relative paths).",
    )


class AbstentionSettings(_Section):
    """When retrieval strategies say "not found" instead of guessing (see ``ragtune calibrate``)."""

    enabled: bool = Field(True, description="Abstain when the retrieved evidence is weak.")
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Evidence score below which rag/extract abstain; empty = the value "
        "`ragtune calibrate` chose for this project, else the built-in default (0.40, measured "
        "on the bundled sample).",
    )
    max_false_abstention: float = Field(
        0.10, ge=0.0, le=1.0, description="Calibration: most answerable questions to refuse."
    )
    cosine_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Evidence score = w*cosine + (1-w)*IDF term coverage."
    )


class RoutingSettings(_Section):
    """Which adapter answers a request: one knowledge base, one base model, an adapter per
    department (see ``ragtune.routing``)."""

    field: str = Field(
        "", description="Request field whose value picks the adapter, e.g. department "
        "(`ragtune ask --route department=hr`)."
    )  # fmt: skip
    metadata_key: str = Field(
        "", description="Or: metadata key of the top retrieved chunk's document, e.g. department."
    )
    routes: dict[str, str] = Field(
        default_factory=dict, description='Value -> adapter name, e.g. {hr = "hr-lora"}.'
    )
    default: str = Field(
        "", description="Adapter for values without a route (logged); empty = no adapter."
    )

    @model_validator(mode="after")
    def _one_key(self) -> RoutingSettings:
        if self.field and self.metadata_key:
            raise ValueError("set routing.field or routing.metadata_key, not both")
        if self.routes and not (self.field or self.metadata_key):
            raise ValueError("routing.routes needs routing.field or routing.metadata_key")
        return self


class PricingSettings(_Section):
    """Prices for the cost estimates of ``ragtune compare`` (USD; set your own)."""

    cpu_hour: float = Field(0.10, ge=0, description="Price of one CPU machine-hour.")
    gpu_hour: float = Field(2.50, ge=0, description="Price of one GPU machine-hour.")
    per_1k_tokens_in: float = Field(0.0, ge=0, description="API price per 1k prompt tokens.")
    per_1k_tokens_out: float = Field(0.0, ge=0, description="API price per 1k generated tokens.")
    hardware: Literal["auto", "cpu", "gpu"] = Field(
        "auto", description="Which hour price applies; auto = gpu when CUDA is available."
    )


class Settings(BaseSettings):
    """All of ragtune's settings, one typed object passed to every component."""

    model_config = SettingsConfigDict(
        env_prefix="RAGTUNE_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)  # type: ignore[arg-type]
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)  # type: ignore[arg-type]
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)  # type: ignore[arg-type]
    store: StoreSettings = Field(default_factory=StoreSettings)  # type: ignore[arg-type]
    rerank: RerankSettings = Field(default_factory=RerankSettings)  # type: ignore[arg-type]
    ingest: IngestSettings = Field(default_factory=IngestSettings)  # type: ignore[arg-type]
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)  # type: ignore[arg-type]
    prompt: PromptSettings = Field(default_factory=PromptSettings)  # type: ignore[arg-type]
    abstention: AbstentionSettings = Field(default_factory=AbstentionSettings)  # type: ignore[arg-type]
    pricing: PricingSettings = Field(default_factory=PricingSettings)  # type: ignore[arg-type]
    routing: RoutingSettings = Field(default_factory=RoutingSettings)  # type: ignore[arg-type]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Priority: explicit arguments > environment > ragtune.toml > defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @model_validator(mode="after")
    def _warn_on_legal_but_ignored(self) -> Settings:
        if self.chunking.size > 256 and self.embedder.name == "minilm":
            warnings.warn(
                "chunking.size > 256: all-MiniLM-L6-v2 only embeds the first 256 tokens",
                stacklevel=2,
            )
        if self.rerank.name == "cross-encoder" and not self.rerank.model_path:
            raise ValueError("rerank.name = 'cross-encoder' needs rerank.model_path")
        return self

    @classmethod
    def load(cls, root: Path | None = None, **overrides: Any) -> Settings:
        """Read ``root/ragtune.toml`` (if present) and the environment."""
        toml_path = (root / CONFIG_FILE) if root is not None else None
        model_config = {**cls.model_config, "toml_file": toml_path}
        bound = type("ProjectSettings", (cls,), {"model_config": model_config})
        try:
            return bound(**overrides)
        except ValidationError as exc:
            where = str(toml_path) if toml_path and toml_path.exists() else "RAGTUNE_* env"
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"invalid settings in {where}: {problems}") from None
        except Exception as exc:  # e.g. a TOML syntax error
            raise ConfigError(f"cannot read {toml_path}: {exc}") from None


def default_toml() -> str:
    """The commented ``ragtune.toml`` that ``ragtune init`` writes."""
    lines = ["# ragtune settings. Every key is optional; env vars RAGTUNE_SECTION__KEY win.", ""]
    for section_name, section in Settings.model_fields.items():
        model = section.default_factory() if section.default_factory else None  # type: ignore[call-arg]
        if model is None:
            continue
        lines.append(f"[{section_name}]")
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            lines.append(f"# {info.description}")
            lines.append(f"# {name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # a JSON string is a valid TOML basic string ("\n" escaped)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
