"""Answers: citations that check out, figures that come from the cited text, refusals, follow-ups."""

from __future__ import annotations

import re

import pytest

from assistant.answer import (
    best_sentences,
    numbers_in,
    question_kind,
    unsupported_numbers,
    valid_markers,
)
from assistant.evaluate import answer_metrics, read_questions, run_eval
from assistant.followup import place_names, resolve, sibling_path
from assistant.parse import parse_file
from assistant.text import squash

from .conftest import CORPUS, DEV_QUESTIONS

MARKER = re.compile(r"\[(\d+)\]")


def test_numbers_are_found_with_units_and_markers_ignored():
    assert numbers_in("新增约1.4万个学位，占比20%，共1,127家[3]") == {"1.4", "20%", "1127"}
    assert numbers_in("拉动零售额近三十亿元") == {"三十亿"}
    assert unsupported_numbers("新增约1.5万个学位[1]", ["2024年度全区共新增约1.4万个学位"]) == {"1.5"}
    assert unsupported_numbers("新增约1.4万个学位[1]", ["2024年度全区共新增约1.4万个学位"]) == set()


def test_invented_markers_are_removed():
    assert valid_markers("甲[1]。乙[3]。丙[2]。", 2) == "甲[1]。乙。丙[2]。"


def test_question_kinds():
    assert question_kind("海安5月末制造业贷款余额是多少？") == "quantity"
    assert question_kind("海安市对涉企检查做了哪些整改？") == "list"
    assert question_kind("组长是谁？") == "person"
    assert question_kind("学院什么时候挂牌的？") == "date"


def test_best_sentences_keep_the_figure():
    text = "加强政策宣贯。印发通知，宣传奖补政策。为1127家小升规企业下达奖励资金。推动融通发展。"
    assert best_sentences("多少家小升规企业拿到了奖励？", text, "quantity", 1) == ["为1127家小升规企业下达奖励资金。"]


def test_places_come_from_titles_and_issuers():
    names = place_names(["中共广州市花都区委员会关于巡察整改进展情况的通报", "中共海安市委"])
    assert {"花都区", "花都", "广州市", "广州", "海安市", "海安"} <= set(names)


def test_followup_swaps_the_place():
    history = [{"role": "user", "content": "花都区2024年新增了多少学位？"}, {"role": "assistant", "content": "…"}]
    r = resolve("海安的呢？", history, ["花都区", "海安", "花都"], {})
    assert r.query == "海安2024年新增了多少学位？"
    assert resolve("海安市有多少观察员？", history, ["海安"], {}).query == "海安市有多少观察员？"  # not a follow-up
    assert resolve("海安的呢？", None, ["海安"], {}).query == "海安的呢？"


def test_followup_ordinal_names_the_sibling_unit():
    notice = parse_file(next(CORPUS.glob("000_*.txt"))).to_dict()
    notices = {notice["notice_id"]: notice}
    assert sibling_path(notice["sections"], "二、（一）3. 一是", 2) == "二、（一）3. 二是"
    history = [
        {"role": "user", "content": "花都怎么完善产业园区配套？"},
        {"role": "assistant", "content": "…", "citations": [{"notice_id": notice["notice_id"], "path": "二、（一）3. 一是"}]},
    ]
    r = resolve("那第二项呢？", history, [], notices)
    assert r.unit == (notice["notice_id"], "二、（一）3. 二是") and r.notice_ids == (notice["notice_id"],)


def test_followup_keeps_the_previous_notice():
    history = [
        {"role": "user", "content": "海安怎么治理群租房？"},
        {"role": "assistant", "content": "…", "citations": [{"notice_id": "003_x", "path": "二、（二）3.（3）"}]},
    ]
    r = resolve("还有别的措施吗？", history, ["海安"], {})
    assert r.query.startswith("海安怎么治理群租房？") and r.notice_ids == ("003_x",)


# -- on the real corpus with the real model --------------------------------------------------


@pytest.fixture(scope="module")
def dev_run(real_assistant):
    questions = read_questions(DEV_QUESTIONS)
    answers = {q.id: real_assistant.ask(q.q) for q in questions}
    out = run_eval(questions, lambda q, k: [], 5, lambda q: next(a for a in answers.values() if a.question == q).to_dict())
    return questions, answers, out


@pytest.mark.slow
def test_dev_set_answer_targets(dev_run):
    questions, _, out = dev_run
    m = out["summary"]["answers"]
    assert m["first_citation_right"] >= 0.90
    assert m["states_fact"] >= 0.85
    assert m["out_of_corpus_refused"] == 1.0 and m["answered_out_of_corpus"] == []
    assert len(m["false_refusals"]) <= 1
    assert m == answer_metrics(questions, out["results"])


@pytest.mark.slow
def test_every_marker_and_every_figure_is_backed_by_a_citation(dev_run):
    _, answers, _ = dev_run
    for qid, a in answers.items():
        markers = {int(n) for n in MARKER.findall(a.text)}
        assert markers == {c.n for c in a.citations}, qid
        if a.answered:  # a refusal quotes nothing; it lists the notices (titles and dates) it looked in
            cited = [c.chunk.text for c in a.citations] + [c.chunk.notice_title for c in a.citations]
            assert unsupported_numbers(a.text, cited) == set(), qid
        for c in a.citations:
            assert c.chunk.text and c.chunk.path and c.chunk.notice_title
        if not a.answered:
            assert not a.citations and "没有找到" in a.text and "《" in a.text


@pytest.mark.slow
def test_quoted_sentences_are_verbatim(dev_run):
    _, answers, _ = dev_run
    for a in answers.values():
        for line in a.text.splitlines():
            for quoted, n in re.findall(r"^(?:- )?(.+?)\[(\d+)\]$", line):
                cited = a.citations[int(n) - 1].chunk.text
                assert all(squash(s) in squash(cited) for s in re.split(r"(?<=[。；;])", quoted) if s.strip())


@pytest.mark.slow
def test_chat_follow_up_by_ordinal(real_assistant):
    first = real_assistant.ask("花都区怎样完善产业园区周边的道路配套？")
    top = first.citations[0].chunk
    history = [
        {"role": "user", "content": "花都区怎样完善产业园区周边的道路配套？"},
        {"role": "assistant", "content": first.text, "citations": [c.to_dict() for c in first.citations]},
    ]
    follow = real_assistant.ask("那第三项呢？", history=history)
    notice = real_assistant.index.notices[top.notice_id]
    expected = sibling_path(notice["sections"], top.path, 3)
    assert expected and follow.answered and follow.citations[0].chunk.path == expected


@pytest.mark.slow
def test_terminal_chat_keeps_the_conversation(real_index, real_assistant):
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    q1 = "花都区怎样完善产业园区周边的道路配套？"
    top = real_assistant.ask(q1).citations[0].chunk
    expected = sibling_path(real_assistant.index.notices[top.notice_id]["sections"], top.path, 3)
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input=f"{q1}\n那第三项呢？\n/reset\n那第三项呢？\n\n",
        cwd=ROOT,
        env=dict(os.environ, NA_INDEX_DIR=str(real_index), NA_CORPUS_DIR=str(CORPUS)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    turns = out.stdout.split("问> ")
    assert len(turns) == 6  # banner, three answers, the reset, the final empty line
    assert f" {expected}" in turns[2]  # the follow-up cites the sibling numbered 三
    assert f" {expected}" not in turns[4]  # after /reset there is nothing to follow up on
