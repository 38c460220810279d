"""Index stage: Chunks in, Hits out.

Public API: ``build_index`` (incremental, crash-safe), ``Index.load`` / ``Index.search``,
``Hit``, ``IndexProblem`` (Dutch, user-facing) and ``HybridRetriever`` for LangChain.
"""

from index.build import BuildProgress, BuildReport, build_index
from index.retriever import HybridRetriever
from index.search import DocumentInfo, Hit, Index
from index.store import IndexProblem

__all__ = [
    "BuildProgress",
    "BuildReport",
    "DocumentInfo",
    "Hit",
    "Index",
    "IndexProblem",
    "HybridRetriever",
    "build_index",
]
