"""Getting the index ready before the server opens its port (no web framework imported here)."""

from __future__ import annotations

import sys

from .assistant import Assistant


def prepare_index(assistant: Assistant) -> None:
    """Build a missing index (or a stale one, unless NA_REBUILD_ON_START=0) and load it, logging to stderr.

    A corrupted or mismatched index is never served: it is reported and rebuilt from the corpus.
    """
    from .errors import IndexMismatch

    status = assistant.index_status()
    if not status["built"] or (status["stale"] and assistant.settings.rebuild_on_start):
        _build(assistant, f"building the index from {assistant.settings.corpus_dir}/ ...")
    elif status["stale"]:
        print(f"note: serving an index older than the corpus ({', '.join(status['stale'])})", file=sys.stderr)
    try:
        assistant.index  # load (and verify) before the port opens
    except IndexMismatch as exc:
        print(f"refusing the index on disk: {exc.message}", file=sys.stderr, flush=True)
        _build(assistant, f"rebuilding the index from {assistant.settings.corpus_dir}/ ...")
        assistant.index


def _build(assistant: Assistant, what: str) -> None:
    print(what, file=sys.stderr, flush=True)
    report = assistant.build_index(progress=lambda done, total: print(
        f"  embedded {done}/{total}", file=sys.stderr, flush=True) if done == total or done % 320 == 0 else None)
    for f in report.failed:
        print(f"skipped {f.path}: {f.message}", file=sys.stderr)
    print(f"index ready: {report.notices} notices, {report.chunks} chunks", file=sys.stderr, flush=True)
