"""Strip web-page chrome and pull out the metadata that lives around a notice's body.

Works line by line on decoded text. What is removed as chrome is only short
lines that match page furniture (breadcrumbs, font-size controls, footers);
header lines carrying the source (来源) and publishing date (日期/时间) are
removed from the body but their values are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numerals import cn_to_int

_CHROME = re.compile(
    "|".join(
        [
            r"无障碍|长者助手|繁体版|简体版|关怀版|读屏专用|市民网页|English",
            r"^(当前位置|所在位置|您的位置|你的位置|您现在的位置)\s*[:：]",
            r"^(首页|网站首页)\s*[>》＞]",
            r"字体\s*[:：]?\s*[\[【]?\s*大",
            r"^[\[【]?\s*(打印|打印本页|关闭|关闭窗口|分享|收藏|返回顶部|返回)\s*[\]】]?\s*$",
            r"^(主办单位|承办单位|协办单位|主管单位|合作单位|技术支持|版权所有|网站标识码)\s*[:：]",
            r"ICP\s*备|公网安备|Copyright|©",
            r"^(投稿邮箱|联系我们|网站地图|扫一扫|分享到)\s*[:：]?\s*$",
            r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$",
            r"^(上一篇|下一篇)\s*[:：]",
        ]
    ),
    re.IGNORECASE,
)
_MAX_CHROME_LEN = 80
_EMPTY_ATTACHMENT = re.compile(r"^(附件|相关附件)\s*[:：]?\s*$")

_DATE_NUM = r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
_SOURCE = re.compile(r"(?:信息来源|文章来源|来源)\s*[:：]\s*([^\s|｜]+)")
_PUBLISHED = re.compile(r"(?:发布时间|发布日期|发文日期|日期|时间)\s*[:：]\s*" + _DATE_NUM)
_SIGN_DATE = re.compile(r"^" + _DATE_NUM + r"\s*日?$")
_SIGN_DATE_CN = re.compile(r"^([〇零○一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$")
_TITLE_WORDS = re.compile(r"关于|通报|意见|通知|决定|方案|办法|规定|报告|公告|通告|纪要|批复|实施细则")
_MARKER_START = re.compile(r"^([一二三四五六七八九十]+[、是]|[（(]|\d+\s*[.．、]|第[一二三四五六七八九十]+)")
_CLOSING = re.compile(r"^(欢迎|特此|此复|此文|（此件|\(此件)|联系方式|联系电话|通信地址|邮政编码")
_HEADER_SCAN = 12  # lines at the top that may hold chrome, title and metadata


@dataclass
class Cleaned:
    """The body lines of a notice and the metadata found around them."""

    lines: list[str]  # stripped, non-empty body lines (title and header metadata removed)
    closing_from: int  # index in ``lines`` where the closing (contact, signature) starts
    title: str | None = None
    issuer: str | None = None
    date: str | None = None
    published: str | None = None
    source: str | None = None
    removed: list[str] = field(default_factory=list)  # chrome and header metadata lines dropped from the body


def iso_date(y: str | int, m: str | int, d: str | int) -> str | None:
    try:
        y, m, d = int(y), int(m), int(d)
    except ValueError:
        return None
    if not (1900 <= y <= 2200 and 1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def parse_sign_date(line: str) -> str | None:
    """The ISO date of a 落款 line such as ``2025年3月20日`` or ``二〇二五年三月二十日``."""
    line = line.strip()
    m = _SIGN_DATE.match(line)
    if m and "年" in line:
        return iso_date(*m.groups())
    m = _SIGN_DATE_CN.match(line)
    if m:
        digits = "".join(str("〇一二三四五六七八九".find(c)) if c not in "零○" else "0" for c in m.group(1))
        return iso_date(digits, cn_to_int(m.group(2)), cn_to_int(m.group(3)))
    return None


def is_chrome(line: str) -> bool:
    return len(line) <= _MAX_CHROME_LEN and bool(_CHROME.search(line))


def _header_meta(line: str) -> tuple[str | None, str | None] | None:
    """(source, published) when ``line`` is a short header metadata line, else None."""
    if len(line) > 120:
        return None
    src, pub = _SOURCE.search(line), _PUBLISHED.search(line)
    if not src and not pub:
        return None
    return (src.group(1) if src else None, iso_date(*pub.groups()) if pub else None)


def _looks_like_title(line: str) -> bool:
    return (
        4 <= len(line) <= 60
        and not line.endswith(("。", "；", ";", "，", ","))
        and not _MARKER_START.match(line)
        and bool(_TITLE_WORDS.search(line))
    )


def clean(text: str) -> Cleaned:
    """Split ``text`` into body lines and metadata; chrome lines are dropped."""
    raw = [ln.strip().replace("\u3000", " ").strip() for ln in text.split("\n")]
    lines = [ln for ln in raw if ln]
    out = Cleaned(lines=[], closing_from=0)
    # Chrome is only removed around the body (header and footer), never from inside it.
    tail = len(lines)
    while tail > 0 and (is_chrome(lines[tail - 1]) or _EMPTY_ATTACHMENT.match(lines[tail - 1])):
        tail -= 1
    out.removed = lines[tail:]
    body: list[str] = []
    for i, line in enumerate(lines[:tail]):
        if body or i >= _HEADER_SCAN:
            body.append(line)
            continue
        meta = _header_meta(line)
        if meta is not None:
            out.source = out.source or meta[0]
            out.published = out.published or meta[1]
            out.removed.append(line)
        elif is_chrome(line):
            out.removed.append(line)
        elif out.title is None and _looks_like_title(line):
            out.title = line
        else:
            body.append(line)

    closing_from = len(body)
    sign_at = next((j for j in range(len(body) - 1, max(-1, len(body) - 4), -1) if parse_sign_date(body[j])), None)
    if sign_at is not None:
        out.date = parse_sign_date(body[sign_at])
        closing_from = sign_at
        prev = body[sign_at - 1] if sign_at > 0 else ""
        if prev and len(prev) <= 30 and not prev.endswith("。") and not _MARKER_START.match(prev):
            out.issuer = prev
            closing_from = sign_at - 1
    while closing_from > 0 and _CLOSING.search(body[closing_from - 1]) and not _MARKER_START.match(body[closing_from - 1]):
        closing_from -= 1
    out.lines = body
    out.closing_from = closing_from
    return out
