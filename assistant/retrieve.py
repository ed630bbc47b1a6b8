"""Hybrid retrieval: dense (FAISS, inner product) and BM25 (bm25s over jieba tokens), fused with RRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .embeddings import Embedder
from .notices import Chunk
from .store import LoadedIndex
from .text import normalize_query, tokenize


def rrf(rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: ``score(d) = Σ w_i / (k + rank_i(d))`` with ranks from 1; best first.

    Ties are broken by the best single rank, then by id, so the result is deterministic.
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking, w in zip(rankings, weights):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
            best[doc] = min(best.get(doc, rank), rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], best[kv[0]], kv[0]))


@dataclass(frozen=True)
class Filters:
    notice_ids: tuple[str, ...] = ()
    issuer: str | None = None  # substring of the issuer
    date_from: str | None = None  # ISO, inclusive
    date_to: str | None = None

    def active(self) -> bool:
        return bool(self.notice_ids or self.issuer or self.date_from or self.date_to)


@dataclass(frozen=True)
class Hit:
    rank: int
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    similarity: float | None = None  # cosine of the best-matching vector of this chunk

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "notice_id": c.notice_id,
            "notice_title": c.notice_title,
            "path": c.path,
            "label": c.label,
            "text": c.text,
            "score": round(self.score, 6),
        }


class HybridSearcher:
    def __init__(self, index: LoadedIndex, embedder: Embedder, candidates: int = 50, rrf_k: int = 60,
                 dense_weight: float = 1.0, bm25_weight: float = 1.0):
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = (dense_weight, bm25_weight)
        vocab = getattr(index.bm25, "vocab_dict", None) or {}
        self._vocab = set(vocab)

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if not filters.active():
            return None
        allowed = set()
        for nid, meta in self.index.notices.items():
            date = meta.get("date") or meta.get("published")
            if filters.notice_ids and nid not in filters.notice_ids:
                continue
            if filters.issuer and filters.issuer not in (meta.get("issuer") or "") + (meta.get("title") or ""):
                continue
            if filters.date_from and (not date or date < filters.date_from):
                continue
            if filters.date_to and (not date or date > filters.date_to):
                continue
            allowed.add(nid)
        return np.array([c.notice_id in allowed for c in self.index.chunks], dtype=bool)

    def dense_scored(self, query: str, n: int, mask: np.ndarray | None = None) -> dict[int, float]:
        """Chunk rows by their best-matching vector (the unit or one of its sentence windows), with that
        vector's cosine similarity; insertion-ordered, best first."""
        import faiss

        index, owners = self.index.faiss_index, self.index.owners
        if index.ntotal == 0:
            return {}
        q = self.embedder.encode_queries([query]).astype(np.float32)
        params = None
        if mask is not None:
            ids = np.flatnonzero(mask[owners]).astype(np.int64)
            if not len(ids):
                return {}
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        sims, idx = index.search(q, min(n * 4, index.ntotal), params=params)
        best: dict[int, float] = {}
        for sim, i in zip(sims[0], idx[0]):
            if i >= 0 and len(best) < n:
                best.setdefault(int(owners[i]), float(sim))
        return best

    def sparse(self, query: str, n: int, mask: np.ndarray | None = None) -> list[int]:
        bm25 = self.index.bm25
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if bm25 is None or not tokens:
            return []
        n = min(n, len(self.index.chunks))
        weight_mask = mask.astype(np.float32) if mask is not None else None
        docs, scores = bm25.retrieve([tokens], k=n, show_progress=False, n_threads=1, weight_mask=weight_mask)
        return [int(d) for d, s in zip(docs[0], scores[0]) if s > 0]

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        query = normalize_query(query)
        if not query:
            return []
        mask = self._mask(filters or Filters())
        dense_scores = self.dense_scored(query, self.candidates, mask)
        dense = list(dense_scores)
        sparse = self.sparse(query, self.candidates, mask)
        fused = rrf([dense, sparse], k=self.rrf_k, weights=self.weights)[:k]
        d_rank = {doc: r for r, doc in enumerate(dense, 1)}
        s_rank = {doc: r for r, doc in enumerate(sparse, 1)}
        return [
            Hit(rank, self.index.chunks[doc], score, d_rank.get(doc), s_rank.get(doc), dense_scores.get(doc))
            for rank, (doc, score) in enumerate(fused, 1)
        ]


def __getattr__(name: str):
    # The LangChain adapter lives in its own module: importing langchain_core's retriever machinery
    # (langsmith tracing) costs half a second that the server's start-up does not need.
    if name == "NoticeRetriever":
        from .lc_retriever import NoticeRetriever

        return NoticeRetriever
    raise AttributeError(name)
