"""Gradio UI (first cut: a streamed chat with a citation panel, search, and the outline browser)."""

from __future__ import annotations

import html
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from .assistant import Assistant  # noqa: E402
from .errors import AssistantError  # noqa: E402
from .retrieve import Filters  # noqa: E402

# System fonts only: the default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(font=["system-ui", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])


def _hits_html(assistant: Assistant, query: str, notice_ids: list[str]) -> str:
    try:
        hits = assistant.search(query, k=5, filters=Filters(notice_ids=tuple(notice_ids or ())))
    except AssistantError as exc:
        return f"<p>⚠️ {html.escape(exc.message)}</p>"
    if not hits:
        return "<p>通知中没有找到相关内容。</p>"
    rows = []
    for h in hits:
        c = h.chunk
        rows.append(
            f"<div class='hit'><div class='cite'>[{h.rank}] {html.escape(c.notice_title)}"
            f"（{html.escape(c.notice_date or '日期不详')}） <b>{html.escape(c.path)}</b></div>"
            f"<div class='text'>{html.escape(c.text)}</div></div>"
        )
    return "\n".join(rows)


def _citations_html(answer) -> str:
    if not answer.answered:
        return "<div class='refusal'><b>通知中没有找到答案</b><br>可换个说法，或写明地区、部门和具体事项。</div>"
    items = "".join(
        f"<li><b>[{c.n}]</b> {html.escape(c.chunk.notice_title)}（{html.escape(c.chunk.notice_date or '日期不详')}）"
        f"<br><code>{html.escape(c.chunk.path)}</code><blockquote>{html.escape(c.chunk.text)}</blockquote></li>"
        for c in answer.citations
    )
    return f"<ol style='list-style:none;padding:0'>{items}</ol>"


def _respond(assistant: Assistant, question: str, messages: list, history: list, notice_ids: list[str]):
    """Stream one answer into the chat; the side panel shows its citations."""
    question = (question or "").strip()
    if not question:
        yield messages, history, gr.skip(), ""
        return
    messages = [*messages, {"role": "user", "content": question}, {"role": "assistant", "content": ""}]
    try:
        for kind, payload in assistant.ask_stream(question, history=history,
                                                  filters=Filters(notice_ids=tuple(notice_ids or ()))):
            if kind == "delta":
                messages[-1] = {"role": "assistant", "content": messages[-1]["content"] + payload}
                yield messages, history, gr.skip(), ""
            else:
                messages[-1] = {"role": "assistant", "content": payload.text}
                history = [*history, {"role": "user", "content": question},
                           {"role": "assistant", "content": payload.text,
                            "citations": [c.to_dict() for c in payload.citations]}]
                yield messages, history, _citations_html(payload), ""
    except AssistantError as exc:
        messages[-1] = {"role": "assistant", "content": f"⚠️ {exc.message}"}
        yield messages, history, gr.skip(), ""


def build_ui(assistant: Assistant) -> gr.Blocks:
    notices = {n["notice_id"]: n for n in assistant.index.notices.values()}
    choices = [(f"{n['title']}（{n.get('date') or n.get('published') or '日期不详'}）", nid) for nid, n in notices.items()]
    with gr.Blocks(title="通知问答助手", analytics_enabled=False) as demo:
        gr.Markdown("## 通知问答助手\n从已发布的通知中查找答案，每条结果注明出处（通知标题、日期和条款路径）。")
        with gr.Tab("问答"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="对话", height=460, render_markdown=False)
                    with gr.Row():
                        box = gr.Textbox(show_label=False, placeholder="例如：海安市对涉企检查做了哪些整改？", scale=4)
                        send = gr.Button("提问", variant="primary", scale=1)
                    scope_a = gr.Dropdown(choices=choices, multiselect=True, label="限定通知（不选则检索全部）")
                    clear = gr.Button("清空对话")
                with gr.Column(scale=2):
                    gr.Markdown("#### 出处")
                    cites = gr.HTML("<p>回答中的 [n] 对应这里的条文。</p>")
            history = gr.State([])
            run = lambda q, m, h, s: (yield from _respond(assistant, q, m, h, s))  # noqa: E731
            for trigger in (box.submit, send.click):
                trigger(run, [box, chat, history, scope_a], [chat, history, cites, box])
            clear.click(lambda: ([], [], "<p>回答中的 [n] 对应这里的条文。</p>"), None, [chat, history, cites])
        with gr.Tab("检索"):
            query = gr.Textbox(label="问题", placeholder="例如：花都区2024年新增了多少学位？")
            scope = gr.Dropdown(choices=choices, multiselect=True, label="限定通知（不选则检索全部）")
            out = gr.HTML()
            query.submit(lambda q, s: _hits_html(assistant, q, s), [query, scope], out)
        with gr.Tab("通知目录"):
            pick = gr.Dropdown(choices=choices, label="选择通知")
            tree = gr.JSON(label="章节结构")
            pick.change(lambda nid: assistant.outline(nid).to_dict() if nid else None, pick, tree)
    return demo


def prepare_index(assistant: Assistant) -> None:
    """Build a missing index (or a stale one, unless NA_REBUILD_ON_START=0), logging to stderr."""
    status = assistant.index_status()
    if not status["built"] or (status["stale"] and assistant.settings.rebuild_on_start):
        print(f"building the index from {assistant.settings.corpus_dir}/ ...", file=sys.stderr, flush=True)
        report = assistant.build_index(progress=lambda done, total: print(
            f"  embedded {done}/{total}", file=sys.stderr, flush=True) if done == total or done % 320 == 0 else None)
        for f in report.failed:
            print(f"skipped {f.path}: {f.message}", file=sys.stderr)
        print(f"index ready: {report.notices} notices, {report.chunks} chunks", file=sys.stderr, flush=True)
    elif status["stale"]:
        print(f"note: serving an index older than the corpus ({', '.join(status['stale'])})", file=sys.stderr)
    assistant.index  # load (and verify) before the port opens
