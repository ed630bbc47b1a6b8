"""Extractive answers with validated citations, and honest refusals.

The default answer needs no LLM: it quotes the sentences of the best units
that state the fact (figures intact), lists measures for "哪些/怎么" questions,
and groups by notice when a question spans notices. Every sentence ends with
its ``[n]`` marker; a marker can only point at a unit that was retrieved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .notices import Chunk
from .retrieve import Hit
from .text import squash, tokenize

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LIST_Q = re.compile(r"哪些|什么措施|什么举措|什么做法|怎么|如何|怎样|采取了|做了什么|有什么(措施|做法|办法|渠道|机制)")
_QUANTITY_Q = re.compile(r"多少|几[个名家条次项件人年月天万亿]?|多大|多长|比例|百分之")
_PERSON_Q = re.compile(r"是谁|哪位|叫什么名字|姓名")
_DATE_Q = re.compile(r"什么时候|何时|哪一?年|哪一?天|几月|几号|日期")
_DIGIT = re.compile(r"\d")
_TITLES = frozenset("同志 书记 副书记 市长 区长 县长 镇长 局长 主任 组长 部长 主席 先生 女士".split())
_ROLE = re.compile(r"由[^。；，,]{1,12}(?:任|担任)(?:组长|副组长|主任|局长|书记|第一责任人)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s*[%％‰])?|[零一二三四五六七八九十百千两]+(?:万|亿)")


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "n": self.n,
            "notice_id": c.notice_id,
            "notice_title": c.notice_title,
            "notice_date": c.notice_date,
            "path": c.path,
            "label": c.label,
            "text": c.text,
        }

    def line(self) -> str:
        return f"[{self.n}] {self.chunk.citation_label()}"


@dataclass
class Answer:
    question: str
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    query: str = ""  # the standalone question that was searched (after follow-up resolution)
    mode: str = "extractive"
    flagged: str | None = None  # why a generated answer was replaced by the extractive one

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "citations": [c.to_dict() for c in self.citations],
            "confidence": round(self.confidence, 4),
            "mode": self.mode,
            "flagged": self.flagged,
        }


def question_kind(q: str) -> str:
    if _PERSON_Q.search(q):
        return "person"
    if _DATE_Q.search(q):
        return "date"
    if _QUANTITY_Q.search(q):
        return "quantity"
    if _LIST_Q.search(q):
        return "list"
    return "fact"


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def numbers_in(text: str) -> set[str]:
    """Figures in ``text`` (digits, decimals, percentages, 万/亿 numerals), citation markers excluded."""
    text = _MARKER.sub("", text)
    return {squash(m.group(0)).replace(",", "") for m in _NUMBER.finditer(text)}


def unsupported_numbers(answer: str, cited: list[str]) -> set[str]:
    """Numbers in ``answer`` that appear in none of the cited texts."""
    pool = squash("".join(cited)).replace(",", "")
    return {n for n in numbers_in(answer) if n not in pool}


def valid_markers(answer: str, n_units: int) -> str:
    """Drop ``[n]`` markers that do not refer to one of the ``n_units`` given units."""
    return _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_units else "", answer)


def _overlap(question_tokens: set[str], text: str) -> float:
    toks = set(tokenize(text))
    return sum(len(t) for t in question_tokens & toks)


def best_sentences(question: str, text: str, kind: str, limit: int = 2) -> list[str]:
    """The sentences of ``text`` that best answer ``question`` (in their original order)."""
    sents = sentences(text)
    if len(sents) <= limit:
        return sents
    q = set(tokenize(question))
    scored = []
    for i, s in enumerate(sents):
        score = _overlap(q, s)
        if kind == "quantity" and _DIGIT.search(s):
            score += 2
        scored.append((score, -i, i))
    ranked = sorted(scored, reverse=True)
    top_score = ranked[0][0]
    keep = sorted(i for score, _, i in ranked[:limit] if score >= top_score / 2)
    return [sents[i] for i in keep]


def evidence_fits(kind: str, texts: list[str]) -> bool:
    """Whether the evidence can answer this kind of question at all (a name for 谁, a figure for 多少)."""
    joined = "".join(texts)
    if kind == "quantity":
        return bool(_DIGIT.search(joined)) or bool(re.search(r"[一二三四五六七八九十两]+[个名家条次项件人万亿]", joined))
    if kind == "date":
        return bool(re.search(r"\d{4}年|\d{1,2}月|\d{1,2}日|年底|月底|上旬|中旬|下旬", joined))
    if kind == "person":
        from .confidence import pos_tags

        if _ROLE.search(joined):
            return True
        words = pos_tags(joined)
        return any(f == "nr" and 2 <= len(w) <= 3 and nxt in _TITLES for (w, f), (nxt, _) in zip(words, words[1:]))
    return True


def select_units(hits: list[Hit], kind: str, spread: float = 0.03) -> list[Hit]:
    """The hits worth citing: the best one, plus close runners-up (more for list questions and other notices)."""
    if not hits:
        return []
    top = hits[0]
    best = top.similarity or 0.0
    limit = 4 if kind == "list" else 2
    chosen = [top]
    for h in hits[1:]:
        if len(chosen) >= limit:
            break
        close = (h.similarity or 0.0) >= best - spread
        other_notice = h.chunk.notice_id not in {c.chunk.notice_id for c in chosen}
        if close and (kind == "list" or other_notice or h.rank <= 2):
            chosen.append(h)
    return chosen


def compose(question: str, hits: list[Hit], kind: str) -> tuple[str, list[Citation]]:
    """An extractive answer: quoted sentences, each ending with its citation marker, grouped by notice."""
    units = select_units(hits, kind)
    citations = [Citation(i, h.chunk) for i, h in enumerate(units, 1)]
    by_notice: dict[str, list[Citation]] = {}
    for c in citations:
        by_notice.setdefault(c.chunk.notice_id, []).append(c)
    blocks = []
    for group in by_notice.values():
        head = group[0].chunk  # dates stay in the citation list: every figure in the text is a quote
        lines = []
        for c in group:
            limit = 1 if kind == "list" and len(group) > 1 else 2
            quoted = "".join(best_sentences(question, c.chunk.text, kind, limit)).rstrip("；;，,")
            lines.append(f"{quoted}[{c.n}]")
        bullet = len(lines) > 1
        body = "\n".join(f"- {ln}" for ln in lines) if bullet else lines[0]
        blocks.append(f"据《{head.notice_title}》：\n{body}")
    return "\n\n".join(blocks), citations


def refusal_text(notices: list[dict[str, Any]]) -> str:
    covered = "\n".join(
        f"- 《{n['title']}》（{n.get('date') or n.get('published') or '日期不详'}）" for n in notices
    )
    return (
        "现有通知中没有找到能回答这个问题的内容，为避免误导，不作推测。\n"
        f"目前收录的通知有：\n{covered}\n"
        "可以换个说法再问，例如写明地区或部门（如“花都区”“市工信局”）和具体事项（如“学位”“涉企收费”）。"
    )
