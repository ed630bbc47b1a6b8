"""Text → :class:`Notice`: metadata and the section tree, recovered from numbering.

Structure lives in numbering, not markup. Line-leading markers (``一、``,
``第一方面``, ``（一）``, ``1.``, ``（1）``/``①``, and short ``二是…`` heading
lines) open nodes; their nesting is learned per notice with a stack of marker
styles, so a notice whose parts are numbered ``1.`` or ``二是`` still parses.
Measures (``一是…二是…``, ``第一，…``, ``第二个是``) are found inside the
paragraphs of a node and become its leaf children. Every character of the
cleaned body lands in exactly one place: preamble, a node's marker, heading or
text, or the closing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .clean import Cleaned, clean
from .notices import MEASURE, Notice, Section, join_path
from .numerals import cn_to_int

_CN = r"[一二三四五六七八九十百]+"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


@dataclass(frozen=True)
class _Style:
    name: str
    kind: str
    pattern: re.Pattern[str]

    def label(self, g: str) -> str:
        if self.name in ("item", "subitem"):
            g = str(int(g))  # full-width digits → ASCII
        return {
            "part": "{}、",
            "group": "第{}方面",
            "section": "（{}）",
            "item": "{}.",
            "subitem": "（{}）",
            "circled": "{}",
            "shi": "{}是",
        }[self.name].format(g)

    def value(self, g: str) -> int:
        if self.name == "circled":
            return _CIRCLED.index(g) + 1
        return int(g) if g.isdigit() else (cn_to_int(g) or 0)


_STYLES = [
    _Style("part", "part", re.compile(rf"^({_CN})\s*、")),
    _Style("group", "group", re.compile(rf"^第({_CN})方面(?:问题)?[，,、：:]?")),
    _Style("section", "section", re.compile(rf"^[（(]\s*({_CN})\s*[）)]\s*[。.、，,]?")),
    _Style("item", "item", re.compile(r"^(\d{1,3})\s*[.．、](?!\d)")),
    _Style("subitem", "subitem", re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*[。.、，,]?")),
    _Style("circled", "subitem", re.compile(rf"^([{_CIRCLED}])")),
    # "二是工作目标。" standing alone on a line is a heading, not a measure.
    _Style("shi", MEASURE, re.compile(rf"^({_CN})是(?=[^。；;]{{1,20}}[。；;]?$)")),
]

_TERMINATORS = "。！？!?；;"
_HEADING_MAX = 30  # a first sentence up to this long (no figures), followed by more text, is the heading
_HEADING_LINE_MAX = 80  # a one-sentence marker line up to this long is a heading if content follows
_COLON_HEADING_MAX = 12  # "水电气热方面:" style lead-ins

_MEASURE = re.compile(rf"(第)?({_CN})(个)?是|第({_CN})(?=[，,、：:])")
_BOUNDARY = set(_TERMINATORS + "：:\n \t）)”\"")
_DIGIT = re.compile(r"\d")


def split_heading(rest: str) -> tuple[int, bool]:
    """Where the heading ends in the text after a marker (0 = no heading), and whether that is tentative.

    A one-sentence line is only a heading when content follows it (its own
    paragraphs or children); the caller decides once the tree is known.
    """
    s = rest.rstrip()
    if not s:
        return 0, False
    cut = next((i for i, ch in enumerate(s) if ch in _TERMINATORS), -1)
    if cut in (-1, len(s) - 1):
        return (len(s), True) if len(s) <= _HEADING_LINE_MAX else (0, False)
    if cut + 1 <= _HEADING_MAX and not _DIGIT.search(s[: cut + 1]):
        return cut + 1, False
    colon = next((i for i, ch in enumerate(s[: _COLON_HEADING_MAX + 1]) if ch in "：:"), -1)
    return (colon + 1 if colon > 0 else 0), False


def find_measures(text: str) -> list[re.Match[str]]:
    """Markers of an in-paragraph list ``一是…二是…`` (in order, at sentence starts), or []."""
    hits: list[re.Match[str]] = []
    boundary: list[bool] = []
    for m in _MEASURE.finditer(text):
        value = cn_to_int(m.group(2) or m.group(4))
        at_boundary = m.start() == 0 or text[m.start() - 1] in _BOUNDARY
        if value == 1 and len(hits) == 1 and at_boundary and not boundary[0]:
            hits[0], boundary[0] = m, True  # a better-placed 一是 replaces a stray one
            continue
        if value != len(hits) + 1 or (not at_boundary and value != 1):
            continue
        hits.append(m)
        boundary.append(at_boundary)
    return hits if len(hits) >= 2 else []


@dataclass
class _Open:
    node: Section
    styles: set[str]
    value: int
    own_end: int  # end of the node's own text (before any child)
    text_start: int = 0
    heading_start: int = 0
    tentative: bool = False  # one-sentence line: heading only if content follows


@dataclass
class _Builder:
    body: str
    roots: list[Section] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    opened: list[_Open] = field(default_factory=list)

    def open(self, style: _Style, m: re.Match[str], line: str, start: int) -> None:
        value = style.value(m.group(1))
        level = next((i for i in range(len(self.stack) - 1, -1, -1) if style.name in self.stack[i].styles), None)
        styles = {style.name}
        if level is None and style.name not in self.seen and value > 1:
            # Irregular numbering, e.g. "(4)" between "(三)" and "(五)": continue the list it follows.
            top = self.stack[-1] if self.stack else None
            if top and top.value == value - 1 and _family(top.styles) == _family({style.name}):
                level = len(self.stack) - 1
            if level is not None:
                styles |= self.stack[level].styles
        if level is not None:
            del self.stack[level:]
        self.seen.add(style.name)
        parent = self.stack[-1].node if self.stack else None
        label = style.label(m.group(1))
        rest = line[m.end() :]
        h, tentative = split_heading(rest)
        lead = len(rest) - len(rest.lstrip())
        text_start = start + m.end() + max(h, lead)
        node = Section(
            kind=style.kind,
            label=label,
            path=join_path(parent.path if parent else "", label, style.kind),
            heading=rest[:h].strip(),
            marker=m.group(0),
            start=start,
        )
        (parent.children if parent else self.roots).append(node)
        entry = _Open(node, styles, value, start + len(line), text_start, start + m.end() + lead, tentative)
        self.stack.append(entry)
        self.opened.append(entry)

    def extend(self, end: int) -> None:
        self.stack[-1].own_end = end

    def finish(self) -> None:
        for entry in self.opened:
            _fill_text(entry, self.body)
        for root in self.roots:
            _set_ends(root)


def _family(styles: set[str]) -> str:
    """Markers in brackets and bare markers: a typo keeps its family ("(4)" among "(三)", "二是" after "1.")."""
    return "bracket" if styles & {"section", "subitem", "circled"} else "bare"


def _fill_text(entry: _Open, body: str) -> None:
    """Set the node's text, splitting an in-paragraph list into measure children."""
    node = entry.node
    if entry.tentative and not node.children and entry.own_end == entry.text_start:
        node.heading, entry.text_start = "", entry.heading_start  # a lone sentence is text, not a heading
    raw = body[entry.text_start : entry.own_end]
    offset = entry.text_start + len(raw) - len(raw.lstrip())
    text = raw.strip()
    hits = find_measures(text)
    if not hits:
        node.text = text
        node.end = offset + len(text)
        return
    node.text = text[: hits[0].start()].strip()
    measures = []
    for i, m in enumerate(hits):
        seg_end = hits[i + 1].start() if i + 1 < len(hits) else len(text)
        seg = text[m.end() : seg_end]
        h, tentative = split_heading(seg)
        h = 0 if tentative else h
        label = m.group(0)
        measures.append(
            Section(
                kind=MEASURE,
                label=label,
                path=join_path(node.path, label, MEASURE),
                heading=seg[:h].strip(),
                text=seg[h:].strip(),
                marker=label,
                start=offset + m.start(),
                end=offset + len(text[:seg_end].rstrip()),
            )
        )
    node.children[:0] = measures
    node.end = measures[-1].end


def _set_ends(node: Section) -> int:
    for child in node.children:
        node.end = max(node.end, _set_ends(child))
    return node.end


def _match_marker(line: str) -> tuple[_Style, re.Match[str]] | None:
    for style in _STYLES:
        m = style.pattern.match(line)
        if m:
            return style, m
    return None


_TOPIC = re.compile(r"现(?:将|就|把)(.{2,40}?)(予以公布|公布如下|通报如下|提出如下意见|提出以下意见|通知如下|报告如下)")
_GENRE = {"予以公布": "通报", "公布如下": "通报", "通报如下": "通报", "通知如下": "通知", "报告如下": "报告"}
TITLE_MAX = 40


def derive_title(preamble: str, issuer: str | None) -> str:
    """A short title for a notice without a title line, built from its own words."""
    m = _TOPIC.search(preamble)
    if m:
        genre = _GENRE.get(m.group(2), "意见")
        for title in (f"{issuer or ''}关于{m.group(1)}的{genre}", f"关于{m.group(1)}的{genre}"):
            if len(title) <= TITLE_MAX:
                return title
    first = re.split(r"[。；;，,]", preamble.strip(), maxsplit=1)[0] if preamble.strip() else ""
    base = f"{issuer}：{first}" if issuer and first else (issuer or first or "无标题通知")
    return base if len(base) <= TITLE_MAX else base[: TITLE_MAX - 1] + "…"


def parse_text(text: str, notice_id: str, source_path: str | None = None) -> Notice:
    """Parse decoded notice text into a :class:`Notice`. Never raises on odd input."""
    cleaned: Cleaned = clean(text)
    lines = cleaned.lines
    body = "\n".join(lines)
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    builder = _Builder(body)
    first_marker = None
    for i in range(cleaned.closing_from):
        hit = _match_marker(lines[i])
        if hit:
            first_marker = i if first_marker is None else first_marker
            builder.open(hit[0], hit[1], lines[i], starts[i])
        elif builder.stack:
            builder.extend(starts[i] + len(lines[i]))
    builder.finish()
    pre_end = cleaned.closing_from if first_marker is None else first_marker
    preamble = "\n".join(lines[:pre_end])
    closing = "\n".join(lines[cleaned.closing_from :])
    issuer = cleaned.issuer
    if issuer is None and cleaned.title and "关于" in cleaned.title:
        issuer = cleaned.title.split("关于", 1)[0] or None
    return Notice(
        notice_id=notice_id,
        title=cleaned.title or derive_title(preamble, issuer),
        issuer=issuer,
        date=cleaned.date,
        published=cleaned.published,
        source=cleaned.source,
        preamble=preamble,
        sections=builder.roots,
        closing=closing,
        body=body,
        source_path=source_path,
    )


def parse_file(path: str | Path, max_bytes: int | None = None) -> Notice:
    """Load and parse a notice file; the notice id is the file name without extension."""
    from .loaders import DEFAULT_MAX_BYTES, load_text

    p = Path(path)
    text = load_text(p, max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    return parse_text(text, p.stem, str(p))
