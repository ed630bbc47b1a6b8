"""Does the corpus answer this question at all? Retrieval confidence and the reasons to refuse.

Signals, all computed from the question, the hits and the corpus text:

- the question shares no word with the corpus (another language, another topic);
- it names a place that no notice mentions (上海市浦东新区 in a corpus about 花都 and 海安);
- its key nouns are missing from the corpus *and* the best passage is only a weak
  semantic match (the threshold is calibrated on the dev set's out-of-corpus questions);
- the evidence cannot be the kind of answer asked for (no figure for 多少, no name for 谁).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .retrieve import Hit
from .text import squash, tokenize

#: Calibrated on ../shared/eval/dev_questions.jsonl (see README): confidence below this is a refusal.
THRESHOLD = 0.866
MISSING_PENALTY = 0.05  # per unit of missing-key-noun fraction
_GENERIC = frozenset("问题 情况 方面 工作 东西 地方 事情 内容 时候 有关 相关 什么 哪些 多少".split())
_lock = threading.Lock()


def pos_tags(text: str) -> list[tuple[str, str]]:
    import jieba.posseg as pseg

    with _lock:  # jieba's POS tagger is not thread-safe on first use
        return [(w.word, w.flag) for w in pseg.lcut(text)]


@dataclass
class Assessment:
    confidence: float
    reason: str | None  # why the question is refused, or None


class CorpusProfile:
    """What the corpus contains, for judging questions against it."""

    def __init__(self, texts: list[str], vocab: set[str]):
        self.text = squash("".join(texts))
        self.vocab = vocab

    def contains(self, term: str) -> bool:
        return squash(term).lower() in self.text.lower()

    def assess(self, question: str, hits: list[Hit]) -> Assessment:
        if not hits:
            return Assessment(0.0, "no passage matches")
        tokens = tokenize(question)
        if tokens and not any(t in self.vocab for t in tokens):
            return Assessment(0.0, "no word of the question occurs in the notices")
        words = pos_tags(question)
        places = [w for w, f in words if f == "ns" and len(w) >= 2]
        missing_places = [p for p in places if not self.contains(p)]
        if missing_places:
            return Assessment(0.0, f"the notices do not mention {'、'.join(missing_places)}")
        keys = [w for w, f in words if (f[0] == "n" or f in ("vn", "eng")) and len(w) >= 2 and w not in _GENERIC]
        missing = [k for k in keys if not self.contains(k)]
        sim = hits[0].similarity if hits[0].similarity is not None else 0.0
        confidence = sim - MISSING_PENALTY * (len(missing) / len(keys) if keys else 0.0)
        if confidence < THRESHOLD:
            detail = f" ({'、'.join(missing)} not found)" if missing else ""
            return Assessment(confidence, f"low retrieval confidence{detail}")
        return Assessment(confidence, None)
