"""Where a cited unit sits in its notice: the breadcrumb and the surrounding section, for the citation panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .chunking import unit_text
from .notices import Chunk

WINDOW = 900  # characters of context kept on each side of the unit in a long section


@dataclass(frozen=True)
class UnitContext:
    breadcrumb: list[str]  # notice title, then each enclosing section ("二、巡察整改任务落实情况")
    before: str
    unit: str  # the cited text, to be highlighted
    after: str


def _key(path: str) -> str:
    return path.replace(" ", "")


def _ancestors(sections: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """The chain of sections from the top down to the one whose path is ``target`` (or its deepest prefix)."""
    chain: list[dict[str, Any]] = []
    level = sections
    while True:
        step = next((s for s in level if s["path"] and target.startswith(_key(s["path"]))), None)
        if step is None:
            return chain
        chain.append(step)
        if _key(step["path"]) == target:
            return chain
        level = step.get("children", [])


def _render(section: dict[str, Any]) -> Iterator[str]:
    yield f"{section['label']}{unit_text(section['heading'], section.get('text', ''))}".strip()
    for child in section.get("children", []):
        yield from _render(child)


def unit_context(notice: dict[str, Any], chunk: Chunk) -> UnitContext:
    """The section around ``chunk`` with the unit located in it; the unit alone when it cannot be found."""
    chain = _ancestors(notice.get("sections", []), _key(chunk.path))
    if chain and _key(chain[-1]["path"]) == _key(chunk.path) and len(chain) > 1:
        scope = chain[-2]  # show the unit among its siblings
    elif chain:
        scope = chain[-1]
    else:
        scope = None
    crumbs = [notice.get("title") or chunk.notice_title] + [f"{s['label']}{s['heading']}".strip() for s in chain]
    if scope is None:  # 导语, 结尾, or an outline without this path
        whole = notice.get("preamble", "") if chunk.path == "导语" else notice.get("closing", "")
    else:
        whole = "\n".join(_render(scope))
    at = whole.find(chunk.text) if chunk.text else -1
    if at < 0:
        return UnitContext(crumbs, "", chunk.text, "")
    before, unit, after = whole[:at], chunk.text, whole[at + len(chunk.text):]
    if chunk.label and before.endswith(chunk.label):  # highlight "五是" along with its text
        before, unit = before[: -len(chunk.label)], chunk.label + unit
    if len(before) > WINDOW:
        before = "…" + before[-WINDOW:]
    if len(after) > WINDOW:
        after = after[:WINDOW] + "…"
    return UnitContext(crumbs, before, unit, after)
