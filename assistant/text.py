"""Query normalisation and the Chinese tokenizer behind BM25 (pure functions, lazily loaded tools)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

_lock = threading.Lock()
_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)

# Function words and question words that carry no topic.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 等 对 把 被 从 向 为 以 于 由 将 其 之 也 都 而 并 又 就 还 这 那 这些 那些
    什么 哪些 哪个 哪 多少 几 怎么 怎样 如何 为什么 为何 是否 有没有 能不能 可不可以 吗 呢 吧 啊 呀
    做 做了 有 有哪些 没有 一下 请问 请 我 我们 你 你们 他们 它 个 方面""".split()
)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_query(text: str) -> str:
    """NFKC, traditional → simplified, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _t2s().convert(text)
    return _WS.sub(" ", text).strip()


_jieba = None


def _get_jieba():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens of NFKC-normalised text, without punctuation and stopwords."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens = []
    for tok in _get_jieba().lcut_for_search(text):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and not _PUNCT.match(tok):
            tokens.append(tok)
    return tokens


def squash(text: str) -> str:
    """NFKC with all whitespace removed: how anchors and quotes are compared."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))
