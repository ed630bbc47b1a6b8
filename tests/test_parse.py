"""The parser on the five real notices: metadata, trees, chrome removal, text preservation."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.clean import clean, is_chrome
from assistant.notices import Notice, Section
from assistant.parse import find_measures, parse_file, parse_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))


def notice(prefix: str) -> Notice:
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return parse_file(path)


def node(n: Notice, path: str) -> Section:
    found = n.find(path)
    assert found is not None, f"{path} missing; have {[s.path for s in n.walk()][:40]}"
    return found


def kids(sec: Section, kind: str) -> list[Section]:
    return [c for c in sec.children if c.kind == kind]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def rebuilt(n: Notice) -> str:
    return n.preamble + "".join(s.marker + s.heading + s.text for s in n.walk()) + n.closing


# -- acceptance: the real trees ----------------------------------------------------


def test_000_title_date_and_part_two():
    n = notice("000")
    assert n.title == "中共广州市花都区委员会关于巡察整改进展情况的通报"
    assert n.date == "2025-03-20"
    assert n.issuer == "中共广州市花都区委"
    assert [s.label for s in n.sections] == ["一、", "二、", "三、"]
    two = n.sections[1]
    assert len(kids(two, "section")) == 7
    assert sum(len(kids(s, "item")) for s in kids(two, "section")) == 12
    item = node(n, "二、（一）3.")
    assert item.path == "二、（一）3." and item.label == "3." and item.heading == "产业园区周边公共配套的整改"
    assert item.text == ""
    first, second = item.children[:2]
    assert (first.label, first.path, first.heading) == ("一是", "二、（一）3. 一是", "统筹强化产业园区发展规划。")
    assert first.text.startswith("制定产业园空间布局规划")
    assert (second.path, second.heading) == ("二、（一）3. 二是", "持续完善园区周边配套。")
    assert "新增约1.4万个学位" in node(n, "二、（一）3. 五是").text


def test_002_dates_items_run_across_sections_and_no_chrome():
    n = notice("002")
    assert n.date == "2025-02-27"
    assert n.published == "2025-03-28"
    assert n.title == "中共广州市工业和信息化局党组关于巡察整改进展情况的通报"
    two = n.sections[1]
    sections = kids(two, "section")
    assert len(sections) == 7
    items = [i.label for s in sections for i in kids(s, "item")]
    assert items == [f"{k}." for k in range(1, 30)]
    tree_text = "".join(s.heading + s.text for s in n.walk()) + n.preamble + n.closing
    for chrome in ("无障碍", "长者助手", "当前位置", "字体", "[大]", "信息来源"):
        assert chrome not in tree_text
    assert all(is_chrome(line) or "来源" in line for line in clean(Path(n.source_path).read_text()).removed)


def test_003_untitled_haian():
    n = notice("003")
    assert "海安" in n.title and len(n.title) <= 40
    assert n.date == "2024-07-10"
    assert n.issuer == "中共海安市委"
    one = node(n, "二、（一）")
    two = node(n, "二、（二）")
    assert len(kids(one, "item")) == 5
    assert len(kids(two, "item")) == 17
    sub = kids(kids(one, "item")[0], "subitem")
    assert [s.label for s in sub] == ["（1）", "（2）"]
    assert node(n, "二、（一）1.（2）").text.startswith("李堡镇")
    assert "制造业贷款余额459.51亿元" in node(n, "二、（二）2.（2）").text


def test_004_groups_sections_items_and_metadata():
    n = notice("004")
    assert n.date == "2021-11-22"
    assert n.published == "2021-11-23"
    assert n.source == "南粤清风网"
    two = n.sections[1]
    groups = kids(two, "group")
    assert [g.label for g in groups] == ["第一方面", "第二方面", "第三方面", "第四方面"]
    sections = [s for g in groups for s in kids(g, "section")]
    cn = "一 二 三 四 五 六 七 八 九 十 十一 十二".split()
    assert [s.label for s in sections] == [f"（{c}）" for c in cn]
    items = [i for g in groups for s in [g, *kids(g, "section")] for i in kids(s, "item")]
    assert len(items) == 37
    assert node(n, "二、第一方面（一）1.").heading.startswith("针对没有把区位优势")
    assert "主办单位" not in n.closing and "ICP" not in n.closing and "投稿邮箱" not in n.closing


def test_001_messy_numbering():
    n = notice("001")
    headings = [s.heading.rstrip("。") for s in n.sections]
    assert headings == ["指导思想", "工作目标", "重点工作", "保障措施"]
    last = n.sections[-1]
    assert len(last.children) == 5
    assert [c.heading.rstrip("。") for c in last.children][3] == "严谨守纪"
    assert n.date is None and len(n.title) <= 40 and n.title


@pytest.mark.parametrize("notice_id", IDS)
def test_no_body_text_is_lost(notice_id):
    n = parse_file(CORPUS / f"{notice_id}.txt")
    assert squash(rebuilt(n)) == squash(n.body)
    raw = [ln.strip() for ln in (CORPUS / f"{notice_id}.txt").read_text().splitlines() if ln.strip()]
    c = clean("\n".join(raw))
    kept = c.lines + c.removed + ([c.title] if c.title else [])
    assert Counter(squash(x) for x in raw) == Counter(squash(x) for x in kept)


@pytest.mark.parametrize("notice_id", IDS)
def test_spans_point_at_the_node_text(notice_id):
    n = parse_file(CORPUS / f"{notice_id}.txt")
    for s in n.walk():
        span = n.body[s.start : s.end]
        assert s.text in span and s.heading in span
        for c in s.children:
            assert s.start <= c.start and c.end <= s.end


def test_paths_are_label_concatenations():
    n = notice("000")
    for s in n.walk():
        for c in s.children:
            sep = " " if c.kind == "measure" else ""
            assert c.path == s.path + sep + c.label


# -- pieces --------------------------------------------------------------------------


def test_measures_need_order_and_sentence_starts():
    text = "统一是前提。一是加强领导。要求明确。二是完善机制。第三，强化督查。"
    labels = [m.group(0) for m in find_measures(text)]
    assert labels == ["一是", "二是", "第三"]
    assert find_measures("第一时间召开会议，一是开展检查。") == []  # a lone 一是 is no list


def test_halfwidth_and_fullwidth_labels_are_canonical():
    text = "标题通知\n一、总体要求\n(一)加强领导。内容甲。\n1．第一项\n(2)子项内容\n（二）。完善机制。内容乙。\n"
    n = parse_text(text, "x")
    assert [s.path for s in n.walk()] == ["一、", "一、（一）", "一、（一）1.", "一、（一）1.（2）", "一、（二）"]


def test_same_line_heading_and_body_are_split():
    n = parse_text("一、总体要求\n（一）加强组织领导。各单位要落实责任。\n", "x")
    sec = node(n, "一、（一）")
    assert (sec.heading, sec.text) == ("加强组织领导。", "各单位要落实责任。")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("一二三十、（）()1234.．是第方面。，:\n 甲乙丙丁") + ["①", "\r"]), max_size=300))
def test_parser_never_raises_or_loses_text_on_marker_soup(text):
    n = parse_text(text, "fuzz")
    assert squash(rebuilt(n)) == squash(n.body)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_parser_never_raises_or_loses_text_on_any_text(text):
    n = parse_text(text, "fuzz")
    assert squash(rebuilt(n)) == squash(n.body)
    assert isinstance(n.title, str) and len(n.title) <= 60
