"""The chat behind every page: streaming, citations placed in their sections, limits, escaping, suggestions."""

from __future__ import annotations

import re
import threading

import pytest

from assistant.answer import Answer, Citation
from assistant.context import unit_context
from assistant.limits import BUSY_ZH, Admission, Busy, Gate, RateLimiter
from assistant.notices import Chunk
from assistant.ui import RATE_ZH, ChatService, citation_panel, render_conversation, render_panel

ANSWERED = "花都区2024年新增了多少学位？"


def final(service: ChatService, question: str, turns=None, scope=None, client="c"):
    steps = list(service.respond(question, turns or [], scope, client))
    return steps


@pytest.mark.slow
def test_chat_streams_then_links_each_marker_to_its_unit(real_assistant):
    steps = final(ChatService(real_assistant), ANSWERED)
    assert len(steps) >= 3  # the question at once, then the answer growing, then the final render
    assert "na-pending" in steps[0][0] and ANSWERED in steps[0][0]
    conv, panel, turns, box = steps[-1]
    assert box == "" and [t["role"] for t in turns] == ["user", "assistant"]
    assert "1.4万个学位" in conv and "na-pending" not in conv
    refs = set(re.findall(r"class='na-ref' data-turn='(\d+)' data-n='(\d+)'", conv))
    cited = {(str(1), str(c["n"])) for c in turns[1]["citations"]}
    assert refs == cited and cited
    # every button has an article to open, in the active turn of the panel
    for turn, n in refs:
        assert f"class='na-cite' data-turn='{turn}' data-n='{n}'" in panel
    assert "na-turn na-active" in panel and "二、（一）3. 五是" in panel
    mark = re.search(r"<mark>(.*?)</mark>", panel).group(1)
    assert mark.startswith("五是") and "1.4万个学位" in mark


@pytest.mark.slow
def test_follow_up_uses_the_conversation_and_latest_turn_is_active(real_assistant):
    service = ChatService(real_assistant)
    turns = final(service, ANSWERED)[-1][2]
    conv, panel, turns, _ = final(service, "那第二项呢？", turns)[-1]
    assert len(turns) == 4 and turns[-1]["citations"][0]["path"] == "二、（一）3. 二是"
    active = re.search(r"<section class='na-turn na-active' data-turn='(\d+)'", panel).group(1)
    assert active == "3" and panel.count("na-active") == 1 and "data-turn='1'" in panel


@pytest.mark.slow
def test_refusal_and_errors_are_polite_chinese(real_assistant):
    service = ChatService(real_assistant)
    conv = final(service, "住房公积金怎么提取？")[-1][0]
    assert "na-refusal" in conv and "通知中没有找到答案" in conv and "class='na-ref'" not in conv
    conv, _, turns, box = final(service, "问" * 600)[-1]
    assert "问题太长了" in conv and box == "问" * 600  # the text stays for editing
    assert turns[0].get("failed") and ChatService.history(turns) == []
    kiosk = ChatService(real_assistant, kiosk=True)
    assert "200 字以内" in final(kiosk, "问" * 201)[-1][0]


@pytest.mark.slow
def test_rate_and_queue_limits_answer_politely(real_assistant):
    service = ChatService(real_assistant, gate=Gate(per_minute=1, max_active=1, max_waiting=0))
    assert "1.4万个学位" in final(service, ANSWERED, client="a")[-1][0]
    assert RATE_ZH in final(service, ANSWERED, client="a")[-1][0]
    with service.admission.slot():  # someone else is being answered and nobody may wait
        conv = final(service, ANSWERED, client="b")[-1][0]
    assert BUSY_ZH in conv


def test_rate_limiter_window_and_admission_waiting_line():
    now = [0.0]
    rate = RateLimiter(2, clock=lambda: now[0])
    assert rate.allow("x") and rate.allow("x") and not rate.allow("x") and rate.allow("y")
    assert 1 <= rate.retry_after("x") <= 61
    now[0] = 60.0
    assert rate.allow("x")
    assert RateLimiter(0).allow("x")

    gate = Admission(max_active=1, max_waiting=1, wait_s=5)
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with gate.slot():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    waiter_done = []
    w = threading.Thread(target=lambda: waiter_done.append(gate.slot().__enter__() is None))
    w.start()
    for _ in range(100):
        if gate.waiting == 1:
            break
        threading.Event().wait(0.01)
    with pytest.raises(Busy):  # one active, one waiting: the third is turned away
        with gate.slot():
            pass
    release.set()
    t.join(5)
    w.join(5)
    assert waiter_done == [True]


def test_conversation_and_panel_escape_everything():
    evil = "<img src=https://x/y.png onerror=alert(1)>[1]"
    chunk = Chunk("i", "n", "标题<b>", None, "一、", "一、", "t", "<script>alert(1)</script>", 0, 1)
    turns = [{"role": "user", "content": evil},
             {"role": "assistant", "content": evil, "answered": True,
              "citations": [Citation(1, chunk).to_dict()]}]
    conv = render_conversation(turns)
    assert "<img" not in conv and "&lt;img" in conv and "<script" not in conv
    assert conv.count("class='na-ref'") == 2  # the marker in the text and in the source list

    class Stub:
        class index:  # noqa: N801 - a stand-in with the attribute the panel reads
            notices = {"n": {"title": "标题<b>", "sections": []}}

    panel = citation_panel(Stub, Answer("<q>", "a[1]", True, [Citation(1, chunk)]), 1)
    assert "<script" not in panel and "&lt;script&gt;" in panel and "标题&lt;b&gt;" in panel
    assert "&lt;q&gt;" in panel
    assert render_panel([{"role": "assistant", "panel": panel}]).count("na-active") == 1


def test_every_unit_is_found_in_its_section(hash_assistant):
    idx = hash_assistant.index
    for chunk in idx.chunks:
        ctx = unit_context(idx.notices[chunk.notice_id], chunk)
        assert chunk.text in ctx.unit and ctx.breadcrumb[0] == chunk.notice_title
        if len(ctx.breadcrumb) > 2:  # a nested unit is shown among its siblings, not alone
            assert ctx.before or ctx.after, chunk.path
            last = ctx.breadcrumb[-1]
            assert last.startswith(chunk.label) or chunk.label not in last


@pytest.mark.slow
def test_suggested_questions_come_from_the_corpus_and_are_answered(real_assistant):
    questions = real_assistant.suggestions()
    assert len(questions) == 4 and len(set(questions)) == 4
    headings = [c["heading"] for n in real_assistant.index.notices.values()
                for s in n["sections"] for c in s["children"]]
    for q in questions:
        assert any(h.strip("。").removeprefix("关于").removesuffix("方面") in q for h in headings), q
        assert real_assistant.ask(q).answered
