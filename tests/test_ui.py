"""The Gradio chat handler: streamed answers, the citation panel, follow-ups, escaping."""

from __future__ import annotations

import pytest

from assistant.answer import Answer, Citation
from assistant.notices import Chunk
from assistant.ui import _citations_html, _respond

pytestmark = pytest.mark.slow


def test_chat_streams_then_shows_citations_and_follows_up(real_assistant):
    steps = list(_respond(real_assistant, "花都区2024年新增了多少学位？", [], [], []))
    messages, history, panel, box = steps[-1]
    assert box == "" and [m["role"] for m in messages] == ["user", "assistant"]
    assert "1.4万个学位" in messages[-1]["content"] and "二、（一）3. 五是" in panel
    assert history[-1]["citations"][0]["path"] == "二、（一）3. 五是"
    follow = list(_respond(real_assistant, "那第二项呢？", messages, history, []))[-1]
    assert "二、（一）3. 二是" in follow[2] and len(follow[0]) == 4


def test_refusal_and_errors_are_shown_in_the_chat(real_assistant):
    refusal = list(_respond(real_assistant, "住房公积金怎么提取？", [], [], []))[-1]
    assert "没有找到" in refusal[0][-1]["content"] and "没有找到答案" in refusal[2]
    too_long = list(_respond(real_assistant, "问" * 600, [], [], []))[-1]
    assert too_long[0][-1]["content"].startswith("⚠️ the question is too long")


def test_citation_panel_escapes_notice_text():
    chunk = Chunk("i", "n", "标题<b>", None, "一、", "一、", "t", "<img src=https://x/y.png onerror=alert(1)>", 0, 1)
    panel = _citations_html(Answer("q", "a[1]", True, [Citation(1, chunk)]))
    assert "<img" not in panel and "&lt;img" in panel and "标题&lt;b&gt;" in panel
