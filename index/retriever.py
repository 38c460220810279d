"""LangChain adapter: the hybrid index as a ``BaseRetriever``.

Each LangChain ``Document`` carries the full ``Hit`` in its metadata, so downstream
runnables keep spans and sentences without re-parsing anything.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index.search import Hit


def hit_to_document(hit: Hit) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        metadata={
            "hit": hit,
            "source": c.source,
            "section": c.section_path,
            "line_start": c.line_start,
            "line_end": c.line_end,
            "page": c.page,
            "score": hit.score,
        },
    )


class HybridRetriever(BaseRetriever):
    index: Any
    k: int = 10
    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [hit_to_document(h) for h in self.index.search(query, self.k)]
