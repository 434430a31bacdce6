"""``POST /v1/embeddings``: the project's own embedder behind OpenAI's embeddings API, so
LangChain's ``OpenAIEmbeddings`` or LlamaIndex's ``OpenAILikeEmbedding`` can use ragtune as
their embedding endpoint, and their vectors match the ones ragtune searches with.

Example::

    curl -s localhost:8000/v1/embeddings -H "Authorization: Bearer $KEY" \\
      -d '{"model": "minilm", "input": ["vacation days", "salary bands"]}'
    # {"object": "list", "model": "minilm", "data": [{"object": "embedding", "index": 0,
    #   "embedding": [...]}, ...], "usage": {"prompt_tokens": 4, "total_tokens": 4}}
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends

from ragtune.errors import NotFoundError
from ragtune.service.auth import caller, runtime
from ragtune.service.deps import Caller, Runtime
from ragtune.service.errors import ServiceError
from ragtune.service.schemas import EmbeddingRequest

router = APIRouter()

# OpenAI's own cap on inputs per request, so a client that batches for OpenAI (LangChain
# sends up to 1000, LlamaIndex 10-100) is never refused here; the body limit bounds the rest.
MAX_INPUTS = 2048
# About OpenAI's 8k-token cap per input. The embedder reads only its first max_tokens tokens
# anyway; this bounds the tokenizer's work on the part it would throw away.
MAX_INPUT_CHARS = 32_000


@router.post("/v1/embeddings")
async def embeddings(
    body: EmbeddingRequest, _: Caller = Depends(caller), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """Embed ``input`` (a text or a list of texts) with the project's embedder. Inputs
    longer than the embedder's window are embedded from their start (as at ingest) and
    their indexes listed in ``ragtune_truncated``."""
    texts = _texts(body.input)

    def work() -> dict[str, Any]:
        embedder = rt.local().embedder
        _check_model(body, embedder.name, embedder.dim)
        vectors = embedder.embed(texts)
        tokens = embedder.count_tokens(texts)
        data = [{"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
                for i, v in enumerate(vectors)]  # fmt: skip
        return {
            "object": "list", "data": data, "model": embedder.name,
            "usage": {"prompt_tokens": sum(tokens), "total_tokens": sum(tokens)},
            "ragtune_truncated": [i for i, n in enumerate(tokens) if n > embedder.max_tokens],
        }  # fmt: skip

    return await rt.run(rt.read, work)


def _texts(given: str | list[str] | list[list[int]] | list[int]) -> list[str]:
    """The request's texts, or a 400 that says what is wrong with them."""
    texts = [given] if isinstance(given, str) else given
    if not texts:
        raise ServiceError(400, "input is an empty list", "send a text or a list of texts")
    if not all(isinstance(t, str) for t in texts):
        # Token ids of OpenAI's tokenizer: ragtune's embedder has its own and cannot read them.
        raise ServiceError(
            400, "input is token ids; ragtune embeds text only",
            "send strings (LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False))",
        )  # fmt: skip
    strings = [str(t) for t in texts]
    if len(strings) > MAX_INPUTS:
        raise ServiceError(400, f"input has {len(strings)} texts, over the {MAX_INPUTS} limit",
                           "send them in several requests")  # fmt: skip
    for i, text in enumerate(strings):
        if not text.strip():
            raise ServiceError(400, f"input[{i}] is empty", "send non-blank texts")
        if len(text) > MAX_INPUT_CHARS:
            raise ServiceError(
                400, f"input[{i}] is {len(text)} characters, over the {MAX_INPUT_CHARS} limit",
                "split it: the embedder reads only its first few hundred tokens anyway",
            )  # fmt: skip
    return strings


def _check_model(body: EmbeddingRequest, name: str, dim: int) -> None:
    # Vectors from another model than the one asked for would be silently wrong: refuse.
    if body.model not in ("default", name):
        raise NotFoundError(f"unknown embedding model {body.model!r}",
                            f"this server embeds with {name!r} (or send 'default')")  # fmt: skip
    if body.dimensions not in (None, dim):
        raise ServiceError(
            400, f"dimensions={body.dimensions} is not supported: {name!r} gives {dim}",
            f"leave dimensions out or send {dim}",
        )  # fmt: skip


def _encode(vector: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":  # what the openai client asks for by default: little-endian f32
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return [float(x) for x in vector]
