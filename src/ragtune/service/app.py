"""The FastAPI app factory: ``create_app(project)``; nothing is built at import time.

Example::

    import uvicorn
    from ragtune import Project
    from ragtune.service.app import create_app
    from ragtune.service.deps import ServiceConfig

    app = create_app(Project.open("handbook"), ServiceConfig(strategy="rag"))
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ragtune.project import Project
from ragtune.service import errors, upload_journal
from ragtune.service.answering import Answering
from ragtune.service.deps import Runtime, ServiceConfig
from ragtune.service.metrics import Metrics
from ragtune.service.middleware import EdgeMiddleware
from ragtune.service.routes import answers, documents, embeddings, feedback, system
from ragtune.service.schemas import ERROR_RESPONSES


def create_app(project: Project, config: ServiceConfig | None = None) -> FastAPI:
    """The HTTP service for ``project``. Worker threads start with the app (lifespan) and
    finish their running work when it shuts down."""
    config = config or ServiceConfig()
    metrics = Metrics()
    runtime = Runtime(project, config, on_query_batch=metrics.query_batch.observe)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(runtime.start)
        # Uploads a crash interrupted: before the first request can see their files.
        await runtime.run(runtime.write, lambda: upload_journal.recover(runtime.local()))
        try:
            yield
        finally:
            await asyncio.to_thread(runtime.close)

    app = FastAPI(
        title="ragtune", version=_version(), lifespan=lifespan,
        description="Grounded answers with citations over your documents; OpenAI-compatible.",
    )  # fmt: skip
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.state.answering = Answering(runtime, metrics)
    errors.install(app)
    for module in (system, answers, embeddings, documents, feedback):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.mount("/static", StaticFiles(directory=system.STATIC), name="static")
    app.add_middleware(EdgeMiddleware, max_body_bytes=config.max_body_bytes, metrics=metrics)
    return app


def _version() -> str:
    from ragtune.version import __version__

    return __version__
