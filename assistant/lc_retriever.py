"""LangChain retriever over :meth:`Assistant.search`, for chains that want ``Document`` objects."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from .retrieve import Filters


class NoticeRetriever(BaseRetriever):
    """LangChain retriever over :meth:`Assistant.search` (documents carry the citation metadata)."""

    assistant: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.assistant.search(query, k=self.k, filters=self.filters)
        return [
            Document(
                page_content=h.chunk.text,
                metadata=dict(h.to_dict(), notice_date=h.chunk.notice_date, citation=h.chunk.citation_label()),
            )
            for h in hits
        ]
