"""``notice-assistant`` command line (also ``python -m assistant``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import __version__
from .config import Settings
from .errors import AssistantError
from .notices import Notice, Section

EPILOG = """examples:
  notice-assistant index                         build or update the index from corpus/
  notice-assistant outline 000_c24e77d8f08ba7b8  show a notice's section tree
  notice-assistant outline path/to/notice.txt --json
  notice-assistant search "花都区2024年新增了多少学位" -k 3
  notice-assistant eval questions.jsonl

settings come from NA_* environment variables (e.g. NA_INDEX_DIR, NA_EMBEDDER); flags win."""


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _print_tree(notice: Notice) -> None:
    print(notice.title)
    meta = [
        ("发文机关", notice.issuer),
        ("落款日期", notice.date),
        ("发布日期", notice.published),
        ("来源", notice.source),
    ]
    print("  ".join(f"{k}：{v or '—'}" for k, v in meta))
    if notice.preamble:
        print(f"[导语] {_short(notice.preamble, 60)}")

    def show(sec: Section, depth: int) -> None:
        body = sec.heading or _short(sec.text, 50)
        print(f"{'  ' * depth}{sec.label} {body}".rstrip())
        for child in sec.children:
            show(child, depth + 1)

    for sec in notice.sections:
        show(sec, 0)
    if notice.closing:
        print(f"[结尾] {_short(notice.closing, 60)}")


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def cmd_outline(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    notice = Assistant(settings).outline(args.notice)
    if args.json:
        _print_json(notice.to_dict())
    else:
        _print_tree(notice)
    return 0


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr, disable=None)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from .assistant import Assistant

    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    report = Assistant(settings).build_index(paths, progress=_progress_bar("embedding"))
    for f in report.failed:
        print(f"skipped {f.path}: {f.message}", file=sys.stderr)
    rate = f", {report.tokens / report.embed_seconds:.0f} tokens/s" if report.embed_seconds > 0 and report.tokens else ""
    print(
        f"indexed {report.notices} notices, {report.chunks} chunks "
        f"({report.embedded} embedded, {report.reused} reused{rate}) in {report.seconds:.1f}s -> "
        f"{settings.index_dir}/versions/{report.version}"
    )
    if report.removed:
        print(f"removed from the index: {', '.join(report.removed)}")
    return 0 if not report.failed else 1


def _warn_if_stale(assistant) -> None:
    status = assistant.index_status()
    if status.get("stale"):
        print(
            f"note: the corpus changed since the index was built ({', '.join(status['stale'][:5])}); "
            "run `notice-assistant index` to update it",
            file=sys.stderr,
        )


def _filters(args: argparse.Namespace):
    from .retrieve import Filters

    return Filters(tuple(args.notice or ()), args.issuer, args.date_from, args.date_to)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    assistant = Assistant(settings)
    _warn_if_stale(assistant)
    hits = assistant.search(args.query, k=args.k, filters=_filters(args))
    if args.json:
        _print_json({"query": args.query, "hits": [h.to_dict() for h in hits]})
        return 0
    if not hits:
        print("no matching passage")
    for h in hits:
        c = h.chunk
        print(f"[{h.rank}] {c.citation_label()}  (score {h.score:.4f})")
        print(f"    {_short(c.text, 160)}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from .assistant import Assistant
    from .evaluate import read_questions, run_eval

    assistant = Assistant(settings)
    questions = read_questions(Path(args.questions))
    ask = None if args.no_answers else (lambda q: assistant.ask(q).to_dict())
    out = run_eval(questions, lambda q, k: [h.to_dict() for h in assistant.search(q, k=k)], args.k, ask)
    if args.json:
        _print_json(out)
        return 0
    s = out["summary"]
    print(f"{s['answerable']} answerable of {s['questions']} questions, k={s['k']}")
    cols = [c for c in ("R@1", "R@3", "R@5", "MRR") if c in s]
    print(f"{'category':<10}{'n':>5}" + "".join(f"{c:>8}" for c in cols))
    rows = [("all", s)] + list(s["by_category"].items())
    for name, m in rows:
        print(f"{name:<10}{m['n']:>5}" + "".join(f"{m[c]:>8.3f}" for c in cols))
    if "answers" in s:
        a = s["answers"]
        print(
            f"\nanswers: first citation right {a['first_citation_right']:.3f}, states the fact {a['states_fact']:.3f}, "
            f"out-of-corpus refused {a['out_of_corpus_refused']:.3f}, "
            f"false refusals {len(a['false_refusals'])} {a['false_refusals'] or ''}".rstrip()
        )
        if a["answered_out_of_corpus"]:
            print(f"answered although out of corpus: {', '.join(a['answered_out_of_corpus'])}")
    if s["misses"]:
        print("\nnot ranked first:")
        by_id = {r["id"]: r for r in out["results"]}
        for qid, q in ((q.id, q) for q in questions if q.id in s["misses"]):
            top = by_id[qid]["hits"][0] if by_id[qid]["hits"] else None
            got = f"{top['notice_id']} {top['path']}" if top else "nothing"
            print(f"  {qid}: {q.q}  -> top: {got}")
    return 0


def _print_answer(answer) -> None:
    print(answer.text)
    if answer.citations:
        print("\n出处：")
        for c in answer.citations:
            print(f"  {c.line()}")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    assistant = Assistant(settings)
    _warn_if_stale(assistant)
    answer = assistant.ask(args.question, filters=_filters(args))
    if args.json:
        d = answer.to_dict()
        _print_json({k: d[k] for k in ("question", "answer", "answered", "citations", "confidence")})
    else:
        _print_answer(answer)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    assistant = Assistant(settings)
    history: list[dict] = []
    print("通知问答（空行或 Ctrl-D 退出，/reset 清空对话）")
    while True:
        try:
            question = input("问> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question == "/reset":
            history.clear()
            continue
        try:
            answer = assistant.ask(question, history=history)
        except AssistantError as exc:
            print(f"（{exc.message}）")
            continue
        _print_answer(answer)
        print()
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.text, "citations": [c.to_dict() for c in answer.citations]}]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .api import serve
    from .assistant import Assistant

    if args.kiosk:
        settings = settings.model_copy(update={"kiosk": True})
    serve(args.host, args.port, Assistant(settings))
    return 0


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notice", action="append", metavar="ID", help="only this notice (repeatable)")
    p.add_argument("--issuer", help="only notices whose issuer or title contains this text")
    p.add_argument("--date-from", metavar="YYYY-MM-DD", help="only notices dated on or after")
    p.add_argument("--date-to", metavar="YYYY-MM-DD", help="only notices dated on or before")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notice-assistant",
        description="Answer questions about official notices (通报、意见、通知), citing the exact measure.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--index-dir", metavar="DIR", help="index directory (env NA_INDEX_DIR, default: index/)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "outline",
        help="show a notice's metadata and section tree",
        description="Parse a notice file (or a notice id from the corpus) and print its section tree.",
    )
    p.add_argument("notice", metavar="FILE_OR_ID", help="a notice file, or a notice id (file name without extension)")
    p.add_argument("--json", action="store_true", help="print the outline as JSON (the contract other tools use)")
    p.set_defaults(func=cmd_outline)

    p = sub.add_parser(
        "index",
        help="build or update the index",
        description="Index exactly the notices under PATHS (default: corpus/). Unchanged chunks reuse their cached "
        "vectors; notices no longer present leave the index. The new version replaces the old one atomically.",
    )
    p.add_argument("paths", nargs="*", metavar="PATHS", help="files or directories (default: corpus/)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="find the passages that answer a question",
                       description="Hybrid search (dense + BM25, fused with RRF) over the built index.")
    p.add_argument("query", help="the question, in plain Chinese")
    p.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    p.add_argument("--json", action="store_true", help="print {query, hits:[...]} as JSON")
    _add_filter_args(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="measure retrieval on a question file",
                       description="Read JSON lines {id,q,notices,anchors} and report R@1/R@3/R@5 and MRR by "
                       "category (the id prefix), listing the questions whose first hit is wrong.")
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("-k", type=int, default=5, help="hits per question (default 5)")
    p.add_argument("--json", action="store_true", help="print {summary, results:[...]} as JSON")
    p.add_argument("--no-answers", action="store_true", help="only measure retrieval (skip answering)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("ask", help="answer a question from the notices, with citations",
                       description="Answer from the notices only; every sentence cites the unit it comes from. "
                       "When the notices do not answer, says so (exit code 0, answered=false).")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print {question, answer, answered, citations:[...]} as JSON")
    _add_filter_args(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive chat in the terminal (keeps the conversation for follow-ups)",
                       description="Type questions; follow-ups such as “那第二项呢？” or “海安的呢？” refer to the "
                       "previous answer. Empty line or Ctrl-D quits; /reset clears the conversation.")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("serve", help="start the web app and HTTP API",
                       description="One process: the Gradio UI at /, the REST API under /api (docs at /docs), an "
                       "OpenAI-compatible /v1/chat/completions, and /healthz. Builds the index first if needed.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--kiosk", action="store_true",
                   help="public kiosk: chat only, large text, reset and idle reset, rate and queue limits "
                   "(same as NA_KIOSK=1)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    overrides = {"index_dir": args.index_dir} if args.index_dir else {}
    try:
        settings = Settings(**overrides)
        return args.func(args, settings)
    except AssistantError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
