"""The data model: a notice, its section tree, and the chunk that a citation points at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

#: Labels of these kinds are joined to a path with a space before them (``二、（一）3. 二是``).
MEASURE = "measure"
KINDS = ("part", "group", "section", "item", "subitem", MEASURE)


@dataclass
class Section:
    """One numbered node of a notice: a part, 方面 group, section, item, sub-item or measure."""

    kind: str
    label: str  # canonical form: 二、 / 第一方面 / （三） / 7. / （1） / 二是
    path: str  # labels from the root: 二、（三）7. 二是
    heading: str = ""
    text: str = ""
    children: list[Section] = field(default_factory=list)
    start: int = 0  # character span in Notice.body
    end: int = 0
    marker: str = field(default="", repr=False)  # the numbering exactly as written, e.g. "(一)。"

    def walk(self) -> Iterator[Section]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "path": self.path,
            "heading": self.heading,
            "text": self.text,
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class Notice:
    """A parsed notice: metadata, preamble, section tree and closing."""

    notice_id: str
    title: str
    issuer: str | None
    date: str | None  # signing date (落款), ISO
    published: str | None  # publishing date from the page header, ISO
    source: str | None
    preamble: str
    sections: list[Section]
    closing: str
    body: str = ""  # the cleaned text the spans refer to
    source_path: str | None = None

    def walk(self) -> Iterator[Section]:
        for s in self.sections:
            yield from s.walk()

    def find(self, path: str) -> Section | None:
        key = path.replace(" ", "")
        return next((s for s in self.walk() if s.path.replace(" ", "") == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice_id,
            "title": self.title,
            "issuer": self.issuer,
            "date": self.date,
            "published": self.published,
            "source": self.source,
            "preamble": self.preamble,
            "sections": [s.to_dict() for s in self.sections],
            "closing": self.closing,
        }


def join_path(parent: str, label: str, kind: str) -> str:
    """Concatenate a child label onto its parent's path (measures get a separating space)."""
    if not parent:
        return label
    return f"{parent} {label}" if kind == MEASURE else parent + label


@dataclass(frozen=True)
class Chunk:
    """The unit that is retrieved and cited: an item or a measure with its heading trail."""

    id: str  # content hash
    notice_id: str
    notice_title: str
    notice_date: str | None
    path: str
    label: str
    trail: str  # title › part › section › item headings
    text: str  # the cited unit itself
    start: int
    end: int

    def citation_label(self) -> str:
        date = f"（{self.notice_date}）" if self.notice_date else ""
        return f"{self.notice_title}{date} {self.path}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "notice_id": self.notice_id,
            "notice_title": self.notice_title,
            "notice_date": self.notice_date,
            "path": self.path,
            "label": self.label,
            "trail": self.trail,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})
