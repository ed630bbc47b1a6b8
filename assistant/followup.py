"""Resolve an elliptical follow-up ("那第二项呢？", "海安的呢？") against the conversation so far."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from .numerals import cn_to_int

_PLACE = re.compile(r"([\u4e00-\u9fa5]{2,4}?)(省|市|区|县)")
_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]{1,3})(?:项|条|个|点|部分|方面)?")
_ELLIPTIC = re.compile(r"^(那|那么|还有|另外|其中|它|这|该|此外)|呢[？?。！!]*$")
_SHORT = 6  # "第二项？" — anything longer must say 那…, 还有…, …呢 to count as a follow-up


@dataclass
class Resolution:
    query: str  # the standalone question to search
    notice_ids: tuple[str, ...] = ()  # stay within the previous notice
    unit: tuple[str, str] | None = None  # (notice_id, path) of a unit named directly ("第二项")


def place_names(texts: Iterable[str]) -> list[str]:
    """Place names in notice titles/issuers, with and without their suffix (花都区 and 花都), longest first."""
    names: set[str] = set()
    for text in texts:
        for m in _PLACE.finditer(re.sub(r"^中共", "", text or "")):
            stem = m.group(1)
            for sub in _PLACE.finditer(stem + m.group(2)):
                names.add(sub.group(0))
                names.add(sub.group(1))
    return sorted((n for n in names if len(n) >= 2), key=len, reverse=True)


def _find_place(text: str, places: list[str]) -> str | None:
    return next((p for p in places if p in text), None)


def _previous(history: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """The last user question and the citations of the answer that followed it."""
    question, citations = None, []
    for turn in history:
        if turn.get("role") == "user":
            question, citations = str(turn.get("content", "")), []
        elif turn.get("role") == "assistant":
            citations = list(turn.get("citations") or [])
    return question, citations


def _ordinal_of(label: str) -> int | None:
    m = re.search(r"[一二三四五六七八九十百]+|\d+", label)
    return cn_to_int(m.group(0)) if m else None


def sibling_path(sections: list[dict[str, Any]], path: str, ordinal: int) -> str | None:
    """The path of the sibling numbered ``ordinal`` of the node at ``path`` (outline dicts)."""
    def walk(nodes: list[dict[str, Any]]):
        for node in nodes:
            if node["path"] == path:
                return nodes
            found = walk(node["children"])
            if found is not None:
                return found
        return None

    siblings = walk(sections)
    if siblings is None:
        return None
    return next((s["path"] for s in siblings if _ordinal_of(s["label"]) == ordinal), None)


def resolve(question: str, history: list[dict[str, Any]] | None, places: list[str],
            notices: dict[str, dict[str, Any]]) -> Resolution:
    """A standalone query for ``question``; unchanged when it is not a follow-up."""
    if not history:
        return Resolution(question)
    prev_q, prev_cits = _previous(history)
    if not prev_q:
        return Resolution(question)
    elliptic = len(question) <= _SHORT or bool(_ELLIPTIC.search(question))
    if not elliptic:
        return Resolution(question)

    ordinal = _ORDINAL.search(question)
    if ordinal and prev_cits:
        n = cn_to_int(ordinal.group(1))
        top = prev_cits[0]
        notice = notices.get(top.get("notice_id", ""))
        if n and notice:
            path = sibling_path(notice.get("sections", []), top["path"], n)
            if path:
                return Resolution(f"{prev_q}（{path}）", (top["notice_id"],), (top["notice_id"], path))

    new_place, old_place = _find_place(question, places), _find_place(prev_q, places)
    if new_place and old_place and new_place != old_place:
        return Resolution(prev_q.replace(old_place, new_place))
    if new_place:
        return Resolution(f"{new_place} {prev_q}")
    stay = tuple(dict.fromkeys(c["notice_id"] for c in prev_cits[:1] if c.get("notice_id")))
    return Resolution(f"{prev_q} {question}", stay)
