"""Build (or update) the index from notice files: load, parse, chunk, embed what changed, write."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .chunking import CHUNKER_VERSION, chunk_notice, embed_text, embed_views
from .embeddings import Embedder
from .errors import AssistantError, LoadError
from .loaders import iter_notice_files, load_text
from .notices import Chunk, Notice
from .parse import parse_text
from .store import SCHEMA_VERSION, EmbeddingCache, WriteLock, read_manifest, sha256_file, write_version

PARSER_VERSION = "1"
Progress = Callable[[int, int], None]


@dataclass
class FileResult:
    path: str
    notice_id: str | None
    ok: bool
    message: str
    chunks: int = 0


@dataclass
class BuildReport:
    files: list[FileResult] = field(default_factory=list)
    notices: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks whose vectors had to be computed
    reused: int = 0
    vectors: int = 0  # dense vectors: one per chunk plus its sentence windows
    removed: list[str] = field(default_factory=list)  # notice ids that left the index
    tokens: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    version: str | None = None

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if not f.ok]


def _bm25(chunks: list[Chunk]):
    import bm25s

    from .text import tokenize

    corpus_tokens = [tokenize(embed_text(c)) or ["∅"] for c in chunks]
    model = bm25s.BM25()
    if corpus_tokens:
        model.index(corpus_tokens, show_progress=False)
    return model


def read_notices(paths: list[Path], max_bytes: int, report: BuildReport) -> list[tuple[Notice, str]]:
    """Load and parse every file; bad files are reported and skipped, never fatal."""
    out: list[tuple[Notice, str]] = []
    seen: dict[str, str] = {}
    try:
        files = iter_notice_files(paths)
    except LoadError as exc:
        report.files.append(FileResult(exc.path, None, False, exc.reason))
        files = [f for p in paths if Path(p).exists() for f in iter_notice_files([p])]
    for path in files:
        notice_id = path.stem
        if notice_id in seen:
            report.files.append(FileResult(str(path), notice_id, False, f"duplicate notice id (also {seen[notice_id]})"))
            continue
        try:
            text = load_text(path, max_bytes=max_bytes)
            notice = parse_text(text, notice_id, str(path))
        except LoadError as exc:
            report.files.append(FileResult(str(path), notice_id, False, exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the other files
            report.files.append(FileResult(str(path), notice_id, False, f"could not parse ({type(exc).__name__}: {exc})"))
            continue
        seen[notice_id] = str(path)
        out.append((notice, sha256_file(path)))
    return out


def build_index(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    max_bytes: int,
    batch_size: int = 32,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
) -> BuildReport:
    """Index exactly the notices under ``paths``; unchanged chunks reuse cached vectors."""
    t0 = time.perf_counter()
    report = BuildReport()
    index_dir = Path(index_dir)
    with WriteLock(index_dir):
        previous = read_manifest(index_dir) or {}
        parsed = read_notices(paths, max_bytes, report)
        if not parsed and not report.files:
            raise AssistantError(f"no notice files found in {', '.join(map(str, paths))}")
        if not parsed:
            raise AssistantError("no notice could be read; the previous index (if any) keeps serving")
        chunks: list[Chunk] = []
        for notice, _ in parsed:
            cs = chunk_notice(notice)
            chunks.extend(cs)
            report.files.append(FileResult(notice.source_path or "", notice.notice_id, True, "ok", len(cs)))
        cache = EmbeddingCache(Path(cache_dir) if cache_dir else index_dir / "cache", embedder.name, embedder.dim)
        views = [embed_views(c) for c in chunks]
        texts = [t for vs in views for t in vs]
        owners = np.array([i for i, vs in enumerate(views) for _ in vs], dtype=np.int64)
        keys = [cache.key(t) for t in texts]
        todo = sorted({k: i for i, k in enumerate(keys) if cache.get(k) is None}.values())
        todo.sort(key=lambda i: len(texts[i]))  # similar lengths batch together
        report.vectors = len(texts)
        report.embedded = len({owners[i] for i in todo})
        report.reused = len(chunks) - report.embedded
        te = time.perf_counter()
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            vecs = embedder.encode_documents([texts[i] for i in batch])
            for i, v in zip(batch, vecs):
                cache.put(keys[i], v)
            report.tokens += sum(embedder.count_tokens(texts[i]) for i in batch)
            if progress:
                progress(min(start + batch_size, len(todo)), len(todo))
        report.embed_seconds = time.perf_counter() - te
        vectors = np.stack([cache.get(k) for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
        cache.save(keep=set(keys))
        old_ids = set(previous.get("sources", {}))
        per_notice = Counter(c.notice_id for c in chunks)
        sources = {
            n.notice_id: {"path": n.source_path, "sha256": digest, "chunks": per_notice[n.notice_id]}
            for n, digest in parsed
        }
        report.removed = sorted(old_ids - set(sources))
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "embedder": {"name": embedder.name, "dim": embedder.dim},
            "chunker_version": CHUNKER_VERSION,
            "parser_version": PARSER_VERSION,
            "tokenizer": "jieba.lcut_for_search+stopwords",
            "counts": {"notices": len(parsed), "chunks": len(chunks), "vectors": len(texts)},
            "sources": sources,
        }
        notice_rows = [dict(n.to_dict(), body=n.body, source_path=n.source_path) for n, _ in parsed]
        final = write_version(index_dir, manifest, chunks, vectors, owners, notice_rows, _bm25(chunks))
    report.version = final.name
    report.notices, report.chunks = len(parsed), len(chunks)
    report.seconds = time.perf_counter() - t0
    return report


def stale_sources(manifest: dict, paths: list[Path]) -> list[str]:
    """Notice ids whose files changed, appeared or disappeared since the index was built."""
    try:
        files = {p.stem: p for p in iter_notice_files(paths)}
    except LoadError:
        return []
    built = manifest.get("sources", {})
    changed = [nid for nid, p in files.items() if nid not in built or built[nid].get("sha256") != sha256_file(p)]
    return sorted(changed + [nid for nid in built if nid not in files])
