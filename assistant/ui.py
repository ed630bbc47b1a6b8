"""The Gradio pages: the staff desk (chat, search, outline, admin), the public kiosk, and the compact /embed chat.

The conversation is rendered by us as escaped HTML (not Gradio's Chatbot), so that every
``[n]`` is a button that opens the cited unit in the side panel, notice text can never
inject markup, and the same renderer serves all three pages.
"""

from __future__ import annotations

import html
import os
import re
from typing import Any, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from .answer import Answer  # noqa: E402
from .assistant import Assistant  # noqa: E402
from .context import unit_context  # noqa: E402
from .errors import AssistantError  # noqa: E402
from .limits import BUSY_ZH, Busy, Gate, client_key  # noqa: E402
from .retrieve import Filters  # noqa: E402

VARIANTS = ("staff", "kiosk", "embed")

# System fonts only: the default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(font=["system-ui", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])

PLACEHOLDER = "例如：海安市对涉企检查做了哪些整改？"
EMPTY_CHAT = "<div class='na-conv na-empty'><p>请输入问题。回答只来自已发布的通知，每条都注明出处；点 [n] 可查看原文。</p></div>"
EMPTY_PANEL = "<p class='na-hint'>回答中的 [n] 对应这里的条文，点击可在原文中查看。</p>"
RATE_ZH = "提问太频繁了，请稍等一会儿再问。"
SUGGESTIONS = 4

CSS = """
.na-conv{display:flex;flex-direction:column;gap:10px;max-height:62vh;overflow-y:auto;padding:4px}
.na-msg{padding:10px 14px;border-radius:10px;line-height:1.7;white-space:pre-wrap;word-break:break-word;max-width:100%}
.na-user{align-self:flex-end;background:var(--color-accent-soft);max-width:85%}
.na-bot{align-self:flex-start;background:var(--background-fill-secondary);border:1px solid var(--border-color-primary)}
.na-refusal{border-left:4px solid #d97706}
.na-refusal .na-title{font-weight:bold;color:#b45309;display:block;margin-bottom:4px}
.na-notice{align-self:center;color:#b45309;font-size:.95em}
.na-ref{background:none;border:none;color:var(--color-accent);cursor:pointer;padding:0 1px;font:inherit;text-decoration:underline}
.na-sources{margin:8px 0 0;padding:6px 0 0;border-top:1px dashed var(--border-color-primary);font-size:.9em;white-space:normal}
.na-sources li{list-style:none}
.na-tools{margin-top:6px;white-space:normal}
.na-copy{font-size:.85em;padding:2px 10px;border:1px solid var(--border-color-primary);border-radius:6px;background:none;cursor:pointer}
.na-turn{display:none}.na-turn.na-active{display:block}
.na-cite{border:1px solid var(--border-color-primary);border-radius:8px;padding:8px 10px;margin-bottom:8px}
.na-cite.na-open{border-color:var(--color-accent);box-shadow:0 0 0 2px var(--color-accent-soft)}
.na-crumbs{font-size:.85em;color:var(--body-text-color-subdued)}
.na-ctx{white-space:pre-wrap;line-height:1.7;max-height:50vh;overflow-y:auto}
.na-ctx .na-around{display:none}.na-open .na-ctx .na-around{display:inline;color:var(--body-text-color-subdued)}
.na-ctx mark{background:#fde68a;color:inherit;padding:0 2px}
.na-hint{color:var(--body-text-color-subdued)}
.na-files td,.na-files th{padding:4px 8px;border-bottom:1px solid var(--border-color-primary);text-align:left}
.na-ok{color:#15803d}.na-bad{color:#b91c1c}
@media (max-width: 640px){.na-conv{max-height:none}.na-user{max-width:95%}}
"""
KIOSK_CSS = """
.na-page{font-size:20px}.na-page .na-msg{font-size:22px}.na-page textarea{font-size:22px!important}
.na-page button{font-size:20px!important}.na-page .na-cite{font-size:19px}
"""
EMBED_CSS = ".na-conv{max-height:50vh}.na-msg{font-size:15px}"

# Runs once when the conversation element mounts: [n] opens the cited unit, copy copies, new text scrolls into view.
CHAT_JS = """
const panel = () => document.getElementById('na-panel');
element.addEventListener('click', async (ev) => {
  const ref = ev.target.closest('.na-ref');
  if (ref) {
    const p = panel(); if (!p) return;
    p.querySelectorAll('.na-turn').forEach(s => s.classList.toggle('na-active', s.dataset.turn === ref.dataset.turn));
    p.querySelectorAll('.na-cite').forEach(a => a.classList.remove('na-open'));
    const art = p.querySelector(`.na-cite[data-turn="${ref.dataset.turn}"][data-n="${ref.dataset.n}"]`);
    if (art) { art.classList.add('na-open'); art.scrollIntoView({block: 'nearest', behavior: 'smooth'});
               const m = art.querySelector('mark'); if (m) m.scrollIntoView({block: 'nearest'}); }
    return;
  }
  const copy = ev.target.closest('.na-copy');
  if (copy) {
    const src = copy.closest('.na-msg').querySelector('.na-copy-src');
    const text = src ? src.textContent : '';
    try { await navigator.clipboard.writeText(text); }
    catch (e) { const t = document.createElement('textarea'); t.value = text; document.body.appendChild(t);
                t.select(); document.execCommand('copy'); t.remove(); }
    copy.textContent = '已复制'; setTimeout(() => { copy.textContent = '复制回答'; }, 1500);
  }
});
new MutationObserver(() => { const c = element.querySelector('.na-conv'); if (c) c.scrollTop = c.scrollHeight; })
  .observe(element, {childList: true, subtree: true, characterData: true});
"""

IDLE_JS = """
() => {
  const idleMs = %d * 1000; let last = Date.now();
  ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'].forEach(
    e => document.addEventListener(e, () => { last = Date.now(); }, true));
  setInterval(() => {
    if (Date.now() - last < idleMs) return;
    last = Date.now();
    if (document.querySelector('#na-conv .na-msg')) document.querySelector('#na-reset')?.click();
  }, 1000);
}
"""


def zh_error(exc: AssistantError) -> str:
    return exc.zh


# -- rendering ------------------------------------------------------------------------------------------


def _date(d: str | None) -> str:
    return d or "日期不详"


def _answer_html(text: str, turn: int, cited: set[int]) -> str:
    def button(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in cited:
            return m.group(0)
        return f"<button type='button' class='na-ref' data-turn='{turn}' data-n='{n}' title='查看出处'>[{n}]</button>"

    return re.sub(r"\[(\d{1,2})\]", button, html.escape(text))


def _copy_text(turn: dict[str, Any]) -> str:
    lines = [turn["content"]]
    if turn.get("citations"):
        lines += ["", "出处："] + [
            f"[{c['n']}] {c['notice_title']}（{_date(c['notice_date'])}） {c['path']}" for c in turn["citations"]
        ]
    return "\n".join(lines)


def _bot_html(turn: dict[str, Any], index: int) -> str:
    if not turn.get("answered", True):
        return (f"<div class='na-msg na-bot na-refusal'><span class='na-title'>通知中没有找到答案</span>"
                f"{html.escape(turn['content'])}</div>")
    cites = turn.get("citations") or []
    body = _answer_html(turn["content"], index, {c["n"] for c in cites})
    sources = "".join(
        f"<li><button type='button' class='na-ref' data-turn='{index}' data-n='{c['n']}'>[{c['n']}]</button> "
        f"{html.escape(c['notice_title'])}（{html.escape(_date(c['notice_date']))}） {html.escape(c['path'])}</li>"
        for c in cites
    )
    return (f"<div class='na-msg na-bot' data-turn='{index}'>{body}"
            + (f"<ol class='na-sources'>{sources}</ol>" if sources else "")
            + "<div class='na-tools'><button type='button' class='na-copy'>复制回答</button></div>"
            + f"<pre class='na-copy-src' hidden>{html.escape(_copy_text(turn))}</pre></div>")


def render_conversation(turns: list[dict[str, Any]], pending: str | None = None) -> str:
    """The chat as escaped HTML; ``pending`` is an answer still streaming in."""
    if not turns and pending is None:
        return EMPTY_CHAT
    parts = []
    for i, turn in enumerate(turns):
        if turn["role"] == "user":
            parts.append(f"<div class='na-msg na-user'>{html.escape(turn['content'])}</div>")
        elif turn["role"] == "assistant":
            parts.append(_bot_html(turn, i))
        else:
            parts.append(f"<div class='na-msg na-notice'>⚠️ {html.escape(turn['content'])}</div>")
    if pending is not None:
        parts.append(f"<div class='na-msg na-bot na-pending'>{html.escape(pending) or '正在查找…'}</div>")
    return "<div class='na-conv'>" + "".join(parts) + "</div>"


def citation_panel(assistant: Assistant, answer: Answer, turn: int) -> str:
    """One turn's cited units, each placed in its surrounding section with the unit highlighted."""
    if not answer.citations:
        return ""
    articles = []
    for c in answer.citations:
        ch = c.chunk
        notice = assistant.index.notices.get(ch.notice_id, {})
        ctx = unit_context(notice, ch)
        crumbs = " › ".join(html.escape(x) for x in ctx.breadcrumb)
        articles.append(
            f"<article class='na-cite' data-turn='{turn}' data-n='{c.n}'>"
            f"<div><b>[{c.n}]</b> {html.escape(ch.notice_title)}（{html.escape(_date(ch.notice_date))}）</div>"
            f"<div class='na-crumbs'>{crumbs}</div><div><code>{html.escape(ch.path)}</code></div>"
            f"<div class='na-ctx'><span class='na-around'>{html.escape(ctx.before)}</span>"
            f"<mark>{html.escape(ctx.unit)}</mark><span class='na-around'>{html.escape(ctx.after)}</span></div></article>"
        )
    return (f"<section class='na-turn' data-turn='{turn}'><div class='na-q'>问：{html.escape(answer.question)}</div>"
            + "".join(articles) + "</section>")


def render_panel(turns: list[dict[str, Any]]) -> str:
    panels = [(i, t["panel"]) for i, t in enumerate(turns) if t.get("panel")]
    if not panels:
        return EMPTY_PANEL
    last = panels[-1][0]
    return "".join(p.replace("class='na-turn'", "class='na-turn na-active'", 1) if i == last else p for i, p in panels)


# -- the chat handler ------------------------------------------------------------------------------------


class ChatService:
    """What one page's chat needs: the assistant, its limits, and the handler Gradio streams from."""

    def __init__(self, assistant: Assistant, kiosk: bool = False, gate: Gate | None = None):
        s = assistant.settings
        self.assistant = assistant
        self.kiosk = kiosk
        self.question_limit = s.kiosk_question_chars if kiosk else s.max_question_chars
        gate = gate or Gate.from_settings(s)
        self.rate, self.admission = gate.rate, gate.admission

    @staticmethod
    def history(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The turns the follow-up resolver sees (failed questions and notices left out)."""
        keep = [t for t in turns if t["role"] in ("user", "assistant") and not t.get("failed")]
        return [{k: t[k] for k in ("role", "content", "citations") if k in t} for t in keep]

    def respond(self, question: str, turns: list[dict[str, Any]], notice_ids: list[str] | None,
                client: str = "local") -> Iterator[tuple[str, str, list[dict[str, Any]], str]]:
        """Yield (conversation html, panel html, turns, box text) while the answer streams in."""
        question = (question or "").strip()
        if not question:
            yield render_conversation(turns), render_panel(turns), turns, ""
            return
        asked = {"role": "user", "content": question[: self.question_limit + 50]}
        try:
            question = self.assistant.check_question(question, self.question_limit)
        except AssistantError as exc:
            yield from self._fail(turns, asked, zh_error(exc), keep_text=question)
            return
        if not self.rate.allow(client):
            yield from self._fail(turns, asked, RATE_ZH, keep_text=question)
            return
        yield render_conversation([*turns, asked], ""), render_panel(turns), turns, ""
        try:
            with self.admission.slot():
                answer = None
                text = ""
                filters = Filters(notice_ids=tuple(notice_ids or ()))
                for kind, payload in self.assistant.ask_stream(question, history=self.history(turns), filters=filters):
                    if kind == "delta":
                        text += payload
                        yield render_conversation([*turns, asked], text), render_panel(turns), turns, ""
                    else:
                        answer = payload
        except Busy:
            yield from self._fail(turns, asked, BUSY_ZH, keep_text=question)
            return
        except AssistantError as exc:
            yield from self._fail(turns, asked, zh_error(exc), keep_text="")
            return
        index = len(turns) + 1
        reply = {"role": "assistant", "content": answer.text, "answered": answer.answered,
                 "citations": [c.to_dict() for c in answer.citations],
                 "panel": citation_panel(self.assistant, answer, index)}
        turns = [*turns, asked, reply]
        yield render_conversation(turns), render_panel(turns), turns, ""

    def _fail(self, turns, asked, message: str, keep_text: str):
        turns = [*turns, dict(asked, failed=True), {"role": "notice", "content": message}]
        yield render_conversation(turns), render_panel(turns), turns, keep_text


# -- outline and admin -----------------------------------------------------------------------------------


def _choices(assistant: Assistant) -> list[tuple[str, str]]:
    notices = sorted(assistant.index.notices.values(), key=lambda n: n.get("date") or n.get("published") or "",
                     reverse=True)
    return [(f"{n['title']}（{_date(n.get('date') or n.get('published'))}）", n["notice_id"]) for n in notices]


def _walk(sections: list[dict[str, Any]], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    for s in sections:
        yield depth, s
        yield from _walk(s.get("children", []), depth + 1)


def outline_html(notice: dict[str, Any]) -> str:
    def node(s: dict[str, Any]) -> str:
        head = html.escape(f"{s['label']}{s['heading'] or s['text'][:40]}")
        kids = "".join(node(c) for c in s.get("children", []))
        return f"<li>{head}" + (f"<ul>{kids}</ul>" if kids else "") + "</li>"

    meta = " · ".join(html.escape(x) for x in (notice.get("issuer"), notice.get("date") or notice.get("published")) if x)
    return (f"<h4>{html.escape(notice['title'])}</h4><p class='na-hint'>{meta}</p>"
            f"<ul class='na-outline'>{''.join(node(s) for s in notice.get('sections', []))}</ul>")


def section_choices(notice: dict[str, Any]) -> list[tuple[str, str]]:
    return [("　" * depth + f"{s['label']}{(s['heading'] or s['text'])[:30]}", s["path"])
            for depth, s in _walk(notice.get("sections", []))]


def find_section(notice: dict[str, Any], path: str) -> dict[str, Any] | None:
    return next((s for _, s in _walk(notice.get("sections", [])) if s["path"] == path), None)


def section_question(section: dict[str, Any]) -> str:
    topic = re.sub(r"^关于|[。，,；;：:]+$", "", (section["heading"] or section["text"][:20]).strip())
    return f"{topic}有哪些内容？"


def files_table(report) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(f.name)}</td><td class='{'na-bad' if f.status == 'rejected' else 'na-ok'}'>"
        f"{ {'added': '已加入', 'unchanged': '未变化', 'rejected': '未加入'}[f.status] }</td>"
        f"<td>{html.escape(f.message)}</td></tr>"
        for f in report.files
    )
    tail = ""
    if report.build_error:
        tail = f"<p class='na-bad'>索引没有重建：{html.escape(report.build_error)}（文件已保存，可稍后再重建）</p>"
    elif report.added:
        tail = (f"<p class='na-ok'>索引已重建：{report.index.get('notices', '?')} 份通知，"
                f"{report.index.get('chunks', '?')} 条条目。</p>")
    return f"<table class='na-files'><tr><th>文件</th><th>结果</th><th>说明</th></tr>{rows}</table>{tail}"


# -- pages -----------------------------------------------------------------------------------------------


def _chat_block(demo: gr.Blocks, assistant: Assistant, service: ChatService, variant: str,
                scope: gr.Dropdown | None):
    """The conversation, the question box, suggestions and the citation panel; returns the components."""
    compact = variant == "embed"
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            conv = gr.HTML(EMPTY_CHAT, elem_id="na-conv", js_on_load=CHAT_JS)
            with gr.Row():
                box = gr.Textbox(show_label=False, placeholder=PLACEHOLDER, scale=4, lines=1,
                                 max_length=service.question_limit, elem_id="na-box", min_width=200)
                send = gr.Button("提问", variant="primary", scale=1, elem_id="na-send", min_width=80)
            buttons = []
            if not compact:  # filled when the page loads (computed once per index version, off the start-up path)
                with gr.Row(elem_id="na-suggest"):
                    buttons = [gr.Button("", size="sm", variant="secondary", min_width=160, visible=False)
                               for _ in range(SUGGESTIONS)]
            reset = gr.Button("新对话" if variant != "staff" else "清空对话", elem_id="na-reset", size="sm")
        with gr.Column(scale=2, min_width=280):
            gr.Markdown("#### 出处")
            panel = gr.HTML(EMPTY_PANEL, elem_id="na-panel", js_on_load=None)
    turns = gr.State([])

    def run(question: str, state: list, picked: list | None = None, request: gr.Request = None):
        yield from service.respond(question, state, picked, client_key(request))

    inputs = [box, turns] + ([scope] if scope is not None else [])
    outputs = [conv, panel, turns, box]
    visibility = "private" if variant != "staff" else "undocumented"
    for trigger in (box.submit, send.click):
        trigger(run, inputs, outputs, api_visibility=visibility, concurrency_limit=None)
    for b in buttons:
        b.click(run, [b, turns] + ([scope] if scope is not None else []), outputs,
                api_visibility=visibility, concurrency_limit=None)
    reset.click(lambda: (EMPTY_CHAT, EMPTY_PANEL, [], ""), None, outputs, api_visibility="private", queue=False)
    if buttons:
        def fill():
            found = assistant.suggestions(SUGGESTIONS)
            return [gr.update(value=q, visible=True) for q in found] + [gr.update(visible=False)] * (
                SUGGESTIONS - len(found))

        demo.load(fill, None, buttons, api_visibility="private")
    return conv, panel, turns, box, run, outputs


def build_ui(assistant: Assistant, variant: str = "staff", gate: Gate | None = None) -> gr.Blocks:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    service = ChatService(assistant, kiosk=variant == "kiosk", gate=gate)
    title = "通知问答" if variant != "staff" else "通知问答助手"
    with gr.Blocks(title=title, analytics_enabled=False, fill_width=True, elem_classes=[f"na-{variant}"]) as demo:
        if variant == "embed":
            _chat_block(demo, assistant, service, variant, None)
            return demo
        with gr.Column(elem_classes=["na-page"] if variant == "kiosk" else []):
            gr.Markdown(f"## {title}\n回答只来自已发布的通知，每条都注明出处（通知标题、日期和条款）。")
            if variant == "kiosk":
                _chat_block(demo, assistant, service, variant, None)
                return demo
            _staff_tabs(demo, assistant, service)
    return demo


def _staff_tabs(demo: gr.Blocks, assistant: Assistant, service: ChatService) -> None:
    choices = _choices(assistant)
    with gr.Tabs() as tabs:
        with gr.Tab("问答", id="chat"):
            scope = gr.Dropdown(choices=choices, multiselect=True, label="限定通知（不选则检索全部）")
            _, _, turns, _, run, chat_outputs = _chat_block(demo, assistant, service, "staff", scope)
        with gr.Tab("检索", id="search"):
            query = gr.Textbox(label="检索词", placeholder="例如：新增学位")
            scope_s = gr.Dropdown(choices=choices, multiselect=True, label="限定通知（不选则检索全部）")
            hits = gr.HTML()
            query.submit(lambda q, s: _hits_html(assistant, q, s), [query, scope_s], hits, api_visibility="undocumented")
        with gr.Tab("通知目录", id="outline"):
            with gr.Row():
                with gr.Column(scale=2, min_width=280):
                    pick = gr.Dropdown(choices=choices, label="选择通知")
                    tree = gr.HTML()
                with gr.Column(scale=3, min_width=280):
                    sec = gr.Dropdown(choices=[], label="选择章节")
                    sec_text = gr.HTML()
                    ask_sec = gr.Button("就本节提问", variant="primary")
        admin = assistant.settings.admin_enabled
        if admin:
            with gr.Tab("管理", id="admin"):
                gr.Markdown("添加通知（txt、md、html、docx、pdf），然后重建索引。需要管理口令。")
                token = gr.Textbox(label="管理口令", type="password")
                files = gr.File(label="通知文件", file_count="multiple", type="filepath",
                                file_types=[".txt", ".md", ".html", ".htm", ".docx", ".pdf"])
                with gr.Row():
                    add = gr.Button("添加并重建索引", variant="primary")
                    rebuild = gr.Button("仅重建索引（通知目录中的文件有改动时）")
                result = gr.HTML()

    def show_notice(nid: str | None):
        notice = assistant.index.notices.get(nid or "")
        if notice is None:
            return "", gr.update(choices=[], value=None), ""
        return outline_html(notice), gr.update(choices=section_choices(notice), value=None), ""

    def show_section(nid: str | None, path: str | None):
        notice = assistant.index.notices.get(nid or "")
        s = find_section(notice, path) if notice and path else None
        if s is None:
            return ""
        lines = [f"{d['label']}{d['heading']}\n{d['text']}".strip() for _, d in _walk([s])]
        return f"<div class='na-ctx'>{html.escape(chr(10).join(lines))}</div>"

    def ask_about(nid: str | None, path: str | None, state: list, request: gr.Request = None):
        notice = assistant.index.notices.get(nid or "")
        s = find_section(notice, path) if notice and path else None
        if s is None:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        for out in service.respond(section_question(s), state, [nid], client_key(request)):
            yield (*out, [nid], gr.Tabs(selected="chat"))

    pick.change(show_notice, pick, [tree, sec, sec_text], api_visibility="undocumented")
    sec.change(show_section, [pick, sec], sec_text, api_visibility="undocumented")
    ask_sec.click(ask_about, [pick, sec, turns], [*chat_outputs, scope, tabs], api_visibility="undocumented",
                  concurrency_limit=None)
    if admin:
        from .admin import add_notices, reason_zh, token_ok

        denied = ("<p class='na-bad'>管理口令不正确。</p>", *(gr.skip(),) * 3)

        def allowed(given: str) -> bool:
            return token_ok(given, assistant.settings.admin_token.get_secret_value())

        def done(body: str) -> tuple:
            """The result, and every notice picker refreshed with the rebuilt index."""
            fresh = _choices(assistant)
            return body, *(gr.update(choices=fresh) for _ in range(3))

        def embedding(progress: gr.Progress):
            return lambda d, t: progress((d, t), desc="嵌入条目")

        def add_files(given: str, paths: list[str] | None, progress=gr.Progress()):
            if not allowed(given):
                return denied
            if not paths:
                return "<p class='na-bad'>请先选择文件。</p>", *(gr.skip(),) * 3
            uploads = []
            for p in paths:
                with open(p, "rb") as f:
                    uploads.append((os.path.basename(p), f.read(assistant.settings.max_file_bytes + 1)))
            return done(files_table(add_notices(assistant, uploads, progress=embedding(progress))))

        def rebuild_only(given: str, progress=gr.Progress()):
            if not allowed(given):
                return denied
            try:
                report = assistant.build_index(progress=embedding(progress))
            except AssistantError as exc:
                return f"<p class='na-bad'>索引没有重建：{html.escape(zh_error(exc))}</p>", *(gr.skip(),) * 3
            skipped = "".join(f"<li>{html.escape(f.path)}：{html.escape(reason_zh(f.message))}</li>"
                              for f in report.failed)
            return done(f"<p class='na-ok'>索引已重建：{report.notices} 份通知，{report.chunks} 条条目"
                        f"（新嵌入 {report.embedded} 条）。</p>" + (f"<p>跳过的文件：</p><ul>{skipped}</ul>" if skipped else ""))

        add.click(add_files, [token, files], [result, scope, scope_s, pick], api_visibility="private")
        rebuild.click(rebuild_only, [token], [result, scope, scope_s, pick], api_visibility="private")


def _hits_html(assistant: Assistant, query: str, notice_ids: list[str]) -> str:
    try:
        hits = assistant.search(query, k=5, filters=Filters(notice_ids=tuple(notice_ids or ())))
    except AssistantError as exc:
        return f"<p>⚠️ {html.escape(zh_error(exc))}</p>"
    if not hits:
        return "<p>通知中没有找到相关内容。</p>"
    return "\n".join(
        f"<div class='na-cite'><div>[{h.rank}] {html.escape(h.chunk.notice_title)}（{html.escape(_date(h.chunk.notice_date))}）"
        f" <b>{html.escape(h.chunk.path)}</b></div><div class='na-ctx'>{html.escape(h.chunk.text)}</div></div>"
        for h in hits
    )


def page_css(variant: str) -> str:
    return CSS + (KIOSK_CSS if variant == "kiosk" else EMBED_CSS if variant == "embed" else "")


def page_js(variant: str, settings) -> str | None:
    return IDLE_JS % settings.idle_reset_seconds if variant == "kiosk" else None
