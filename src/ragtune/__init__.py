"""ragtune: RAG, fine-tuning, or both? Decide from measurements on your own documents.

Public API (heavy dependencies load lazily, so ``import ragtune`` stays fast)::

    from ragtune import Project
    project = Project.open(".")
    hits = project.search("How many vacation days do new hires get?", k=5)
"""

from ragtune.errors import RagtuneError
from ragtune.project import Project
from ragtune.types import Chunk, Document, ScoredChunk
from ragtune.version import __version__

__all__ = ["Chunk", "Document", "Project", "RagtuneError", "ScoredChunk", "__version__"]
