"""The one facade that the CLI, the API, the UI and the tests call."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dataclasses import astuple

from typing import Iterator

from .answer import Answer, Citation, compose, evidence_fits, question_kind, refusal_text
from .config import Settings, get_settings
from .followup import place_names, resolve
from .text import normalize_query
from .embeddings import Embedder, make_embedder
from .errors import AssistantError, BadQuestion, NoticeNotFound
from .indexer import BuildReport, Progress, build_index, stale_sources
from .notices import Notice, Section
from .parse import parse_file
from .retrieve import Filters, Hit, HybridSearcher
from .store import LoadedIndex, current_dir, load_index, read_manifest

ASK_CANDIDATES = 8


class Assistant:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or get_settings()
        self._embedder = embedder
        self._searcher: HybridSearcher | None = None
        self._chat = None
        self._lock = threading.Lock()
        self._suggest_lock = threading.Lock()
        self._switching = threading.Lock()
        self._checked = time.monotonic()
        self._refused: str | None = None

    # -- components (lazy) ------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedder, self.settings.embed_batch)
        return self._embedder

    @property
    def index(self) -> LoadedIndex:
        return self.searcher.index

    @property
    def searcher(self) -> HybridSearcher:
        if self._searcher is None:
            with self._lock:
                if self._searcher is None:
                    self._searcher = self._open_searcher()
        else:
            self._follow_current()
        return self._searcher

    RECHECK_SECONDS = 2.0

    def _follow_current(self) -> None:
        """Switch, in the background, to a version another process made current (e.g. `notice-assistant index`).

        Readers keep the loaded version until the new one is loaded and verified; a broken new
        version is reported once and the old one keeps serving.
        """
        now = time.monotonic()
        if now - self._checked < self.RECHECK_SECONDS or self._switching.locked():
            return
        self._checked = now
        current = current_dir(self.settings.index_dir)
        name = current.name if current else None
        if not name or name == self._searcher.index.version or name == self._refused:
            return

        def switch() -> None:
            with self._switching:
                try:
                    self._searcher = self._open_searcher()
                except AssistantError as exc:
                    self._refused = name
                    print(f"not switching to index {name}: {exc.message}", file=sys.stderr, flush=True)

        threading.Thread(target=switch, name="index-switch", daemon=True).start()

    def _open_searcher(self) -> HybridSearcher:
        s = self.settings
        idx = load_index(s.index_dir, self.embedder.name, self.embedder.dim)
        return HybridSearcher(idx, self.embedder, s.candidates, s.rrf_k, s.dense_weight, s.bm25_weight)

    @property
    def profile(self):
        """What the corpus covers (for refusals), built once per index version."""
        from .confidence import CorpusProfile

        idx = self.index
        if idx.extra.get("profile") is None:
            texts = [n.get("title", "") + n.get("body", "") for n in idx.notices.values()]
            idx.extra["profile"] = CorpusProfile(texts, set(getattr(idx.bm25, "vocab_dict", {}) or {}))
            idx.extra["places"] = place_names(
                [n.get("title", "") for n in idx.notices.values()] + [n.get("issuer") or "" for n in idx.notices.values()]
            )
        return idx.extra["profile"]

    def reload(self) -> None:
        """Switch to the index version that is current on disk (readers keep the old one until then)."""
        fresh = self._open_searcher()
        self._searcher = fresh

    # -- index ------------------------------------------------------------------------
    def build_index(self, paths: list[Path] | None = None, progress: Progress | None = None) -> BuildReport:
        s = self.settings
        report = build_index(
            [Path(p) for p in (paths or [s.corpus_dir])],
            s.index_dir,
            self.embedder,
            s.max_file_bytes,
            s.embed_batch,
            progress,
            s.cache_dir,
        )
        if self._searcher is not None:
            self.reload()
        return report

    def index_status(self, paths: list[Path] | None = None) -> dict[str, Any]:
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            return {"built": False, "stale": []}
        stale = stale_sources(manifest, [Path(p) for p in (paths or [self.settings.corpus_dir])])
        return {"built": True, "version": manifest.get("version"), "created": manifest.get("created"),
                "counts": manifest.get("counts", {}), "embedder": manifest.get("embedder"), "stale": stale}

    # -- questions --------------------------------------------------------------------
    def check_question(self, question: str, limit: int | None = None) -> str:
        if not isinstance(question, str) or not question.strip():
            raise BadQuestion("the question is empty", zh="请先输入问题。")
        limit = limit or self.settings.max_question_chars
        if len(question) > limit:
            raise BadQuestion(f"the question is too long ({len(question)} > {limit} characters)",
                              zh=f"问题太长了（{len(question)} 字），请精简到 {limit} 字以内。")
        return question.strip()

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        query = self.check_question(query)
        return self.searcher.search(query, k or self.settings.top_k, filters)

    def _prepare(self, question: str, history: list[dict[str, Any]] | None, filters: Filters | None):
        """Resolve a follow-up, retrieve, and judge whether the notices answer: (query, hits, kind, verdict)."""
        question = self.check_question(question)
        profile = self.profile
        plan = resolve(normalize_query(question), history, self.index.extra["places"], self.index.notices)
        scope = filters
        if plan.notice_ids and not (filters and filters.notice_ids):
            scope = Filters(plan.notice_ids, *(astuple(filters)[1:] if filters else ()))
        hits = self.searcher.search(plan.query, ASK_CANDIDATES, scope)
        if plan.unit:
            direct = [h for h in hits if (h.chunk.notice_id, h.chunk.path) == plan.unit]
            direct = direct or [Hit(1, c, 1.0, similarity=1.0) for c in self.index.chunks
                                if (c.notice_id, c.path) == plan.unit][:1]
            hits = direct + [h for h in hits if h not in direct]
        kind = question_kind(plan.query)
        verdict = profile.assess(plan.query, hits) if not plan.unit else None
        return question, plan.query, hits, kind, verdict

    def _extractive(self, question: str, query: str, hits: list[Hit], kind: str, verdict) -> Answer:
        if verdict is None or verdict.reason is None:
            text, citations = compose(query, hits, kind)
            if evidence_fits(kind, [c.chunk.text for c in citations]):
                conf = verdict.confidence if verdict else 1.0
                return Answer(question, text, True, citations, conf, query)
        notices = sorted(self.index.notices.values(), key=lambda n: n.get("date") or n.get("published") or "")
        conf = verdict.confidence if verdict else 0.0
        return Answer(question, refusal_text(notices), False, [], conf, query)

    @property
    def generative(self) -> bool:
        return self.settings.answer_mode == "generative" and bool(self.settings.llm_base_url)

    def _llm(self):
        if self._chat is None:
            from .llm import ChatAnswerer

            self._chat = ChatAnswerer(self.settings)
        return self._chat

    def _generated(self, base: Answer, hits: list[Hit], text: str) -> Answer:
        """The model's reply if it passes the checks, else the extractive answer, flagged."""
        from .llm import check

        units = [h.chunk for h in hits[: self.settings.llm_units]]
        cleaned, cited, problem = check(text, units)
        if problem:
            base.flagged = problem
            return base
        citations = [Citation(n, units[n - 1]) for n in cited]
        return Answer(base.question, cleaned, True, citations, base.confidence, base.query, mode="generative")

    def ask(self, question: str, history: list[dict[str, Any]] | None = None, filters: Filters | None = None) -> Answer:
        """Answer from the notices only, citing the units used; refuse when they do not answer."""
        question, query, hits, kind, verdict = self._prepare(question, history, filters)
        base = self._extractive(question, query, hits, kind, verdict)
        if not (base.answered and self.generative):
            return base
        try:
            reply = self._llm().generate(query, [h.chunk for h in hits[: self.settings.llm_units]])
        except Exception as exc:  # noqa: BLE001 - an unreachable model must not take answering down
            base.flagged = f"language model unavailable ({type(exc).__name__})"
            return base
        return self._generated(base, hits, reply)

    def ask_stream(
        self, question: str, history: list[dict[str, Any]] | None = None, filters: Filters | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Yield ("delta", text) while composing, then ("answer", Answer) — which may replace the streamed text."""
        question, query, hits, kind, verdict = self._prepare(question, history, filters)
        base = self._extractive(question, query, hits, kind, verdict)
        if not (base.answered and self.generative):
            for line in base.text.splitlines(keepends=True):
                yield "delta", line
            yield "answer", base
            return
        parts: list[str] = []
        try:
            for piece in self._llm().stream(query, [h.chunk for h in hits[: self.settings.llm_units]]):
                parts.append(piece)
                yield "delta", piece
        except Exception as exc:  # noqa: BLE001
            base.flagged = f"language model unavailable ({type(exc).__name__})"
            yield "answer", base
            return
        yield "answer", self._generated(base, hits, "".join(parts))

    def suggestions(self, n: int = 4) -> list[str]:
        """Questions drawn from the corpus that the assistant answers (cached per index version)."""
        idx = self.index
        with self._suggest_lock:
            if idx.extra.get("suggestions") is None:
                idx.extra["suggestions"] = self._find_suggestions(idx, n)
        return list(idx.extra["suggestions"])

    def _find_suggestions(self, idx: LoadedIndex, n: int) -> list[str]:
        found: list[str] = []
        for question in _candidate_questions(list(idx.notices.values())):
            if len(found) >= n:
                break
            try:
                if self.ask(question).answered:
                    found.append(question)
            except AssistantError:
                continue
        return found

    # -- notices ----------------------------------------------------------------------
    def find_notice_file(self, notice_id: str) -> Path | None:
        from .loaders import SUPPORTED_SUFFIXES

        for suffix in SUPPORTED_SUFFIXES:
            candidate = self.settings.corpus_dir / f"{notice_id}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def outline(self, file_or_id: str) -> Notice:
        """Parse a notice given as a path, an id in the corpus, or an id in the built index."""
        path = Path(file_or_id)
        if path.is_file():
            return parse_file(path, max_bytes=self.settings.max_file_bytes)
        found = self.find_notice_file(file_or_id)
        if found is not None:
            return parse_file(found, max_bytes=self.settings.max_file_bytes)
        manifest = read_manifest(self.settings.index_dir)
        if manifest and file_or_id in manifest.get("sources", {}):
            return notice_from_dict(self.index.notices[file_or_id])
        raise NoticeNotFound(f"no notice file or id '{file_or_id}' (looked in {self.settings.corpus_dir}/ and the index)")


def _who(issuer: str) -> str:
    return re.sub(r"(委员会|党委|党组|委)$", "", re.sub(r"^中共", "", issuer))


def _topic(heading: str) -> str | None:
    topic = re.sub(r"^关于|(方面|的整改|工作)?[。,，:：;；]*$", "", heading.strip())
    return topic if 4 <= len(topic) <= 16 and not re.search(r"[，,。；;]", topic) else None


def _candidate_questions(notices: list[dict[str, Any]]) -> Iterator[str]:
    """One question per notice in turn (newest first), from its second-level headings."""
    per_notice: list[list[str]] = []
    for notice in sorted(notices, key=lambda n: n.get("date") or n.get("published") or "", reverse=True):
        if not notice.get("issuer"):
            continue
        who = _who(notice["issuer"])
        topics = [_topic(c["heading"]) for s in notice.get("sections", []) for c in s.get("children", [])]
        per_notice.append([f"{who}在{t}方面做了哪些工作？" for t in topics if t])
    for round_ in range(max((len(q) for q in per_notice), default=0)):
        for questions in per_notice:
            if round_ < len(questions):
                yield questions[round_]


def notice_from_dict(d: dict[str, Any]) -> Notice:
    def section(s: dict[str, Any]) -> Section:  # kinds are not part of the stored outline
        return Section("", s["label"], s["path"], s["heading"], s["text"], [section(c) for c in s["children"]])

    return Notice(
        d["notice_id"], d["title"], d.get("issuer"), d.get("date"), d.get("published"), d.get("source"),
        d.get("preamble", ""), [section(s) for s in d.get("sections", [])], d.get("closing", ""),
        d.get("body", ""), d.get("source_path"),
    )
