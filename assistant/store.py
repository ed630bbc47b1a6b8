"""The index on disk: versioned directories, switched atomically, readable without pickle.

Layout::

    index/
      CURRENT                 name of the version being served
      versions/<version>/     manifest.json, vectors.faiss, chunks.jsonl, notices.jsonl, bm25/
      cache/<embedder>/       embedding cache: keys.json + vectors.npy
      .lock                   one writer at a time

A build writes ``versions/<version>.tmp``, renames it, then replaces
``CURRENT`` with ``os.replace``: a crash at any point leaves the previous
version serving.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexBusy, IndexMismatch, IndexMissing
from .notices import Chunk

SCHEMA_VERSION = 1
KEEP_VERSIONS = 2
REBUILD_HINT = "rebuild it with: notice-assistant index"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class WriteLock:
    """An exclusive, non-blocking lock on ``<index_dir>/.lock`` (released if the process dies)."""

    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexBusy(f"another index build is running (lock {self.path}); try again when it finishes") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class EmbeddingCache:
    """Vectors by (embedder name, text hash), so unchanged chunks are never embedded twice."""

    def __init__(self, root: Path, embedder_name: str, dim: int):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_name)[:80]
        self.dir = Path(root) / slug
        self.dim = dim
        self._vectors: dict[str, np.ndarray] = {}
        keys_path, vec_path = self.dir / "keys.json", self.dir / "vectors.npy"
        if keys_path.exists() and vec_path.exists():
            try:
                meta = json.loads(keys_path.read_text(encoding="utf-8"))
                keys = meta["keys"] if isinstance(meta, dict) else meta
                intact = not isinstance(meta, dict) or sha256_file(vec_path) == meta.get("sha256")
                vecs = np.load(vec_path, allow_pickle=False)
                if intact and vecs.shape == (len(keys), dim):
                    self._vectors = dict(zip(keys, vecs))
            except (OSError, ValueError, KeyError, TypeError):
                self._vectors = {}  # a damaged cache only costs time: everything is embedded again

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def get(self, key: str) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, key: str, vector: np.ndarray) -> None:
        self._vectors[key] = np.asarray(vector, np.float32)

    def save(self, keep: set[str] | None = None) -> None:
        items = [(k, v) for k, v in self._vectors.items() if keep is None or k in keep]
        self.dir.mkdir(parents=True, exist_ok=True)
        vecs = np.stack([v for _, v in items]) if items else np.zeros((0, self.dim), np.float32)
        tmp = self.dir / f"vectors.{uuid.uuid4().hex[:8]}.tmp.npy"
        np.save(tmp, vecs, allow_pickle=False)
        digest = sha256_file(tmp)
        os.replace(tmp, self.dir / "vectors.npy")
        _write_json(self.dir / "keys.json", {"keys": [k for k, _ in items], "sha256": digest})


@dataclass
class LoadedIndex:
    dir: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    notices: dict[str, dict[str, Any]]
    faiss_index: Any
    owners: np.ndarray  # vector id → chunk row
    bm25: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.dir.name


def current_dir(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / "CURRENT"
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = Path(index_dir) / "versions" / name
    return path if name and path.is_dir() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    d = current_dir(index_dir)
    if d is None or not (d / "manifest.json").exists():
        return None
    try:
        return json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_version(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: list[Chunk],
    vectors: np.ndarray,
    owners: np.ndarray,
    notices: list[dict[str, Any]],
    bm25: Any,
) -> Path:
    """Write a complete new version and make it current. Caller holds the :class:`WriteLock`."""
    import faiss

    versions = Path(index_dir) / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = versions / (name + ".tmp")
    tmp.mkdir()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(int(manifest["embedder"]["dim"])))
    if len(vectors):
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    faiss.write_index(index, str(tmp / "vectors.faiss"))
    np.save(tmp / "owners.npy", np.asarray(owners, dtype=np.int64), allow_pickle=False)  # vector id → chunk row
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    with open(tmp / "notices.jsonl", "w", encoding="utf-8") as f:
        for n in notices:
            f.write(json.dumps(n, ensure_ascii=False) + "\n")
    if bm25 is not None:
        bm25.save(str(tmp / "bm25"), allow_pickle=False)
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest = dict(manifest, version=name, files={str(p.relative_to(tmp)): sha256_file(p) for p in files})
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    final = versions / name
    os.rename(tmp, final)
    pointer_tmp = Path(index_dir) / f"CURRENT.{uuid.uuid4().hex[:8]}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, Path(index_dir) / "CURRENT")
    _prune(versions, keep=name)
    return final


def _prune(versions: Path, keep: str) -> None:
    """Drop half-written builds and all but the newest few versions."""
    done = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.endswith(".tmp")), key=lambda p: p.name)
    for p in versions.iterdir():
        if p.name.endswith(".tmp") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
    for p in done[:-KEEP_VERSIONS]:
        if p.name != keep:
            shutil.rmtree(p, ignore_errors=True)


def load_index(index_dir: Path, embedder_name: str, dim: int, verify: bool = True) -> LoadedIndex:
    """Load the current version; a missing, mismatched or corrupted index is a clear error."""
    import bm25s
    import faiss

    d = current_dir(index_dir)
    if d is None:
        raise IndexMissing(f"no index in {index_dir}/; build it with: notice-assistant index")
    try:
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatch(f"index {d} has no readable manifest ({exc}); {REBUILD_HINT}") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(
            f"index {d} has schema {manifest.get('schema_version')}, this version reads {SCHEMA_VERSION}; {REBUILD_HINT}"
        )
    emb = manifest.get("embedder", {})
    if emb.get("name") != embedder_name or int(emb.get("dim", -1)) != dim:
        raise IndexMismatch(
            f"index {d} was built with embedder {emb.get('name')} (dim {emb.get('dim')}), "
            f"but the configured embedder is {embedder_name} (dim {dim}); {REBUILD_HINT} "
            f"(or set NA_EMBEDDER={emb.get('name')})"
        )
    if verify:
        for rel, digest in manifest.get("files", {}).items():
            p = d / rel
            if not p.is_file() or sha256_file(p) != digest:
                raise IndexMismatch(f"index file {p} is missing or corrupted (checksum mismatch); {REBUILD_HINT}")
    try:
        index = faiss.read_index(str(d / "vectors.faiss"))
        with open(d / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_dict(json.loads(line)) for line in f if line.strip()]
        with open(d / "notices.jsonl", encoding="utf-8") as f:
            notices = {n["notice_id"]: n for n in (json.loads(line) for line in f if line.strip())}
        owners = np.load(d / "owners.npy", allow_pickle=False)
        bm25 = bm25s.BM25.load(str(d / "bm25"), allow_pickle=False) if (d / "bm25").is_dir() else None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexMismatch(f"index {d} could not be read ({exc}); {REBUILD_HINT}") from None
    if index.ntotal != len(owners) or (len(owners) and int(owners.max()) >= len(chunks)):
        raise IndexMismatch(f"index {d} is inconsistent ({index.ntotal} vectors, {len(chunks)} chunks); {REBUILD_HINT}")
    return LoadedIndex(d, manifest, chunks, notices, index, owners, bm25)
