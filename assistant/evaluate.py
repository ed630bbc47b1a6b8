"""Retrieval (and, once answering exists, answer) evaluation on question files (JSON lines)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import AssistantError
from .text import squash


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    notices: tuple[str, ...]
    anchors: tuple[str, ...]

    @property
    def category(self) -> str:
        m = re.match(r"[A-Za-z_]+", self.id)
        return m.group(0).rstrip("_") if m else "all"


def read_questions(path: Path) -> list[Question]:
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"{path}: cannot read question file ({exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Question(str(d["id"]), str(d["q"]), tuple(d.get("notices") or ()), tuple(d.get("anchors") or ())))
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{n}: not a question line ({exc})") from None
    return out


def is_relevant(q: Question, notice_id: str, text: str) -> bool:
    if notice_id not in q.notices:
        return False
    body = squash(text)
    return any(squash(a) in body for a in q.anchors)


def first_relevant_rank(q: Question, hits: Iterable[dict[str, Any]]) -> int | None:
    for h in hits:
        if is_relevant(q, h["notice_id"], h["text"]):
            return int(h["rank"])
    return None


def summarize(questions: list[Question], results: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """R@1/3/5 and MRR over answerable questions, overall and by category."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for q, r in zip(questions, results):
        if not q.notices:
            continue
        rank = first_relevant_rank(q, r["hits"])
        groups["all"].append(rank)
        groups[q.category].append(rank)

    def metrics(ranks: list[int | None]) -> dict[str, float]:
        n = len(ranks) or 1
        out = {f"R@{c}": round(sum(1 for r in ranks if r and r <= c) / n, 4) for c in (1, 3, 5) if c <= max(k, 1)}
        out["MRR"] = round(sum(1 / r for r in ranks if r) / n, 4)
        out["n"] = len(ranks)
        return out

    summary = {"questions": len(questions), "answerable": len(groups["all"]), "k": k}
    summary.update(metrics(groups.pop("all", [])))
    summary["by_category"] = {cat: metrics(r) for cat, r in sorted(groups.items())}
    summary["misses"] = [
        q.id for q, r in zip(questions, results) if q.notices and first_relevant_rank(q, r["hits"]) != 1
    ]
    return summary


def answer_metrics(questions: list[Question], results: list[dict[str, Any]]) -> dict[str, Any]:
    """First citation right, answer states the fact, out-of-corpus refused, false refusals."""
    answerable = [(q, r) for q, r in zip(questions, results) if q.notices]
    outside = [(q, r) for q, r in zip(questions, results) if not q.notices]
    first_right = [
        bool(r["citations"]) and is_relevant(q, r["citations"][0]["notice_id"], r["citations"][0]["text"])
        for q, r in answerable
    ]
    states = [any(squash(a) in squash(r.get("answer") or "") for a in q.anchors) for q, r in answerable]
    n = len(answerable) or 1
    return {
        "first_citation_right": round(sum(first_right) / n, 4),
        "states_fact": round(sum(states) / n, 4),
        "out_of_corpus_refused": round(sum(not r["answered"] for _, r in outside) / (len(outside) or 1), 4),
        "false_refusals": [q.id for q, r in answerable if not r["answered"]],
        "answered_out_of_corpus": [q.id for q, r in outside if r["answered"]],
    }


def run_eval(
    questions: list[Question],
    search: Callable[[str, int], list[dict[str, Any]]],
    k: int,
    ask: Callable[[str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    results = []
    for q in questions:
        hits = search(q.q, k)
        row: dict[str, Any] = {"id": q.id, "hits": hits, "answered": None, "citations": []}
        if ask is not None:
            a = ask(q.q)
            row.update(answered=a["answered"], citations=a["citations"], answer=a["answer"])
        results.append(row)
    summary = summarize(questions, results, k)
    if ask is not None:
        summary["answers"] = answer_metrics(questions, results)
    return {"summary": summary, "results": results}
