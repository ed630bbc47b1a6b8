"""Notice tree → chunks: one unit per item or measure, with its heading trail.

The text that is returned and cited is the unit itself; what gets embedded
and keyword-indexed is the unit prefixed with the notice title and the
headings above it, so a measure that only says "优化园区公交服务" is still
found by a question about 花都's industrial parks.
"""

from __future__ import annotations

import hashlib
import re

from .notices import Chunk, Notice, Section

CHUNKER_VERSION = "1"
MAX_CHARS = 600
PREAMBLE_LABEL = "导语"
CLOSING_LABEL = "结尾"
TRAIL_SEP = " › "
_SENTENCE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]?")


def unit_text(heading: str, text: str) -> str:
    """Heading and body as one quotable string (a line break when the heading has no end mark)."""
    if not heading or not text:
        return heading or text
    sep = "" if heading[-1] in "。！？!?；;：:，," else "\n"
    return heading + sep + text


def split_long(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split ``text`` at sentence ends into parts of at most ``limit`` characters (longer sentences are cut)."""
    if len(text) <= limit:
        return [text]
    parts, cur = [], ""
    for sent in (s for s in _SENTENCE.findall(text) if s):
        while len(sent) > limit:
            if cur:
                parts.append(cur)
                cur = ""
            parts.append(sent[:limit])
            sent = sent[limit:]
        if len(cur) + len(sent) > limit:
            parts.append(cur)
            cur = ""
        cur += sent
    if cur:
        parts.append(cur)
    return [p for p in parts if p.strip()]


def _chunk_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def embed_text(chunk: Chunk) -> str:
    """What the embedder and BM25 see: trail, label and the unit."""
    return f"{chunk.trail}\n{chunk.label} {chunk.text}"


WINDOW_CHARS = 60


def embed_views(chunk: Chunk) -> list[str]:
    """Texts embedded for one chunk: the whole unit, plus short sentence windows when it is long.

    A measure often packs several facts into one paragraph; a question about one
    of them matches that sentence far better than the paragraph's average.
    """
    views = [embed_text(chunk)]
    sentences = [s for s in _SENTENCE.findall(chunk.text) if s.strip()]
    if len(sentences) < 2:
        return views
    context = chunk.trail  # the same heading trail the whole unit carries
    window = ""
    for sent in sentences:
        if window and len(window) + len(sent) > WINDOW_CHARS:
            views.append(f"{context}\n{window}")
            window = ""
        window += sent
    if window:
        views.append(f"{context}\n{window}")
    return views


def _crumb(sec: Section) -> str:
    head = sec.heading or sec.text
    return f"{sec.label}{head[:40]}"


def chunk_notice(notice: Notice) -> list[Chunk]:
    date = notice.date or notice.published
    chunks: list[Chunk] = []

    def emit(path: str, label: str, trail: list[str], text: str, start: int, end: int) -> None:
        text = text.strip()
        if not text:
            return
        pieces = split_long(text)
        offset = start
        for i, piece in enumerate(pieces):
            at = notice.body.find(piece[:20], offset, end) if notice.body else -1
            p_start = at if at >= 0 else offset
            p_end = min(end, p_start + len(piece)) if at >= 0 else end
            offset = p_end
            trail_s = TRAIL_SEP.join([notice.title, *trail])
            cid = _chunk_id(notice.notice_id, path, str(i), trail_s, piece)
            chunks.append(Chunk(cid, notice.notice_id, notice.title, date, path, label, trail_s, piece, p_start, p_end))

    if notice.preamble:
        emit(PREAMBLE_LABEL, PREAMBLE_LABEL, [], notice.preamble, 0, len(notice.preamble))

    def visit(sec: Section, trail: list[str]) -> None:
        own = unit_text(sec.heading, sec.text)
        if not sec.children:
            emit(sec.path, sec.label, trail, own, sec.start, sec.end)
            return
        if sec.text:  # a parent's own paragraphs before its children
            emit(sec.path, sec.label, trail, own, sec.start, sec.children[0].start)
        for child in sec.children:
            visit(child, [*trail, _crumb(sec)])

    for sec in notice.sections:
        visit(sec, [])
    if notice.closing:
        start = len(notice.body) - len(notice.closing)
        emit(CLOSING_LABEL, CLOSING_LABEL, [], notice.closing, start, len(notice.body))
    return chunks
