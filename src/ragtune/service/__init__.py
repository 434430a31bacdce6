"""``ragtune serve``: the HTTP service (OpenAI-compatible chat, ask, search, documents,
feedback, keys and ACL, metrics, web UI). See :func:`ragtune.service.app.create_app`.

Importing this package is cheap; FastAPI loads with :mod:`ragtune.service.app`.
"""
