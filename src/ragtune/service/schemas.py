"""Request and response bodies of the HTTP API (pydantic v2).

ragtune's own endpoints refuse unknown fields (a typo should not be silently ignored; a
``groups`` field cannot widen a key's rights). The OpenAI-compatible endpoint keeps the
fields it does not declare in ``model_extra``; the route accepts the harmless ones and
refuses the rest (:mod:`ragtune.service.compat`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_FILTER_CHARS = 1000
MAX_FILTERS = 10

# One filter expression; the parser also caps the clauses (ragtune.retrieval.filters).
FilterText = Annotated[str, StringConstraints(max_length=MAX_FILTER_CHARS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    message: str
    type: str = Field(..., description="unauthorized, not_found, invalid_request, ...")
    code: int = Field(..., description="The HTTP status.")
    hint: str | None = Field(None, description="What to do about it, when ragtune knows.")
    model_config = ConfigDict(extra="allow")  # e.g. ``details`` of a 422


class ErrorBody(BaseModel):
    """Every error response: OpenAI's shape, so OpenAI clients show the message."""

    error: ErrorDetail


# Declared on every route, so the schema promises what the service sends on failure.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"model": ErrorBody, "description": "An error (4xx, 5xx), in OpenAI's shape."}
}


class GenerationParams(_Strict):
    """Decoding options a request may set (the server caps max_tokens)."""

    max_tokens: int | None = Field(None, ge=1, description="Answer length cap in tokens.")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: list[str] | None = Field(None, max_length=8)
    seed: int | None = None


class SearchRequest(_Strict):
    query: str = Field(..., min_length=1, description="What to search for.")
    k: int = Field(5, ge=1, le=100)
    mode: Literal["bm25", "dense", "hybrid"] | None = None
    filters: list[FilterText] = Field(default_factory=list, max_length=MAX_FILTERS)


# The request fields routing reads (routing.field), for the `routed` model.
RouteFields = dict[str, str]
ROUTE_HELP = "Request fields for model `routed` (routing.field in ragtune.toml), e.g. department."


class AskRequest(GenerationParams):
    question: str = Field(..., min_length=1)
    model: str | None = Field(None, description="A model id from GET /v1/models.")
    k: int | None = Field(None, ge=1, le=50)
    filters: list[FilterText] = Field(default_factory=list, max_length=MAX_FILTERS)
    route: RouteFields = Field(default_factory=dict, max_length=8, description=ROUTE_HELP)
    stream: bool = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The OpenAI chat request; the last user message is the question."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    filters: list[FilterText] = Field(  # a ragtune extension (openai: extra_body)
        default_factory=list, max_length=MAX_FILTERS, description="Metadata filters."
    )
    route: RouteFields = Field(  # a ragtune extension (openai: extra_body)
        default_factory=dict, max_length=8, description=ROUTE_HELP
    )

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        # A str typed field refuses a lone surrogate ("\ud800" in the JSON), but one inside a
        # union (message content, stop) or an extra field passed and broke SQLite later.
        where = invalid_text(data)
        if where is not None:
            raise ValueError(f"{where} is not valid Unicode (a lone surrogate such as \\ud800)")
        return data


def invalid_text(data: Any, root: str = "") -> str | None:
    """Where in JSON ``data`` the first string UTF-8 cannot encode is (``messages.0.content``),
    or None. Iterative: a deeply nested body cannot exhaust the stack."""
    todo: list[tuple[str, Any]] = [(root, data)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            items = []
        for key, item in reversed(items):
            name = str(key)
            if not _encodable(name):
                return f"{path or 'body'} (a key)"
            todo.append((f"{path}.{name}" if path else name, item))
        if isinstance(value, str) and not _encodable(value):
            return path or "body"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class DocumentText(_Strict):
    """A document sent as JSON text (the other way is a multipart file upload)."""

    id: str = Field(..., min_length=1, max_length=300, description="e.g. hr/new-policy.md")
    text: str = Field(..., min_length=1)
    title: str | None = Field(None, max_length=300)
    metadata: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    groups: list[str] | None = Field(
        None,
        max_length=50,
        description="Access groups unless the text's front matter sets them; [] = public; "
        "left out: a replaced document keeps its groups, a new one is public.",
    )


class FeedbackRequest(_Strict):
    answer_id: str = Field(..., min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=4000)


class EmbeddingRequest(BaseModel):
    """OpenAI's embeddings request. Token-id input is declared (not refused by the type) so
    the route can answer it with a message that says what to send instead."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., max_length=200, description="The embedder's name, or 'default'.")
    input: str | list[str] | list[list[int]] | list[int] = Field(
        ..., description="A text or a list of texts."
    )
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="Only the embedder's own size.")
    user: str | None = Field(None, max_length=300, description="Accepted and ignored.")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        # As in ChatRequest: a lone surrogate inside the union would reach the tokenizer.
        where = invalid_text(data)
        if where is not None:
            raise ValueError(f"{where} is not valid Unicode (a lone surrogate such as \\ud800)")
        return data
