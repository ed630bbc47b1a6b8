"""The pages in a real browser: Debian's chromium driven by Playwright against real servers on loopback."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import ROOT, free_port, serving, variant

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWERED = "花都区2024年新增了多少学位？"
REQUESTS: list[str] = []


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: ./run.sh test installs it (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def open_page(browser, url: str, **context_kw):
    ctx = browser.new_context(locale="zh-CN", **{"viewport": {"width": 1280, "height": 900}, **context_kw})
    ctx.on("request", lambda r: REQUESTS.append(r.url))
    page = ctx.new_page()
    page.goto(url, wait_until="load")  # Gradio keeps a connection open: "networkidle" never comes
    return page


def ready(scope):
    box = scope.locator("#na-box textarea")
    box.wait_for(timeout=30_000)
    return box


def ask(scope, question: str, expect: str = ".na-bot, .na-notice") -> None:
    before = scope.locator(".na-bot, .na-notice").count()
    ready(scope).fill(question)
    scope.locator("#na-send").click()
    scope.locator(".na-bot:not(.na-pending), .na-notice").nth(before).wait_for(timeout=60_000)
    scope.locator(expect).last.wait_for(timeout=10_000)


@pytest.fixture(scope="module")
def staff(browser, live_server):
    page = open_page(browser, str(live_server.base_url) + "/", permissions=["clipboard-read", "clipboard-write"])
    ready(page)
    yield page
    page.context.close()


def test_answer_citation_opens_the_highlighted_unit_in_its_section(staff):
    ask(staff, ANSWERED, ".na-bot .na-ref")
    bot = staff.locator(".na-bot").last
    assert "1.4万个学位" in bot.inner_text() and "[1]" in bot.inner_text()
    assert not staff.locator("#na-panel .na-cite.na-open").count()
    bot.locator(".na-ref", has_text="[1]").first.click()
    opened = staff.locator("#na-panel .na-cite.na-open")
    opened.wait_for(timeout=5_000)
    assert "二、（一）3. 五是" in opened.inner_text() and "巡察整改进展情况的通报" in opened.inner_text()
    mark = opened.locator("mark")
    assert mark.is_visible() and "1.4万个学位" in mark.inner_text()
    around = opened.locator(".na-around").first
    assert around.is_visible() and "四是" in around.inner_text()  # the sibling measures around it
    staff.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)


def test_copy_answer_with_its_citations(staff):
    staff.locator(".na-bot .na-copy").last.click()
    staff.locator(".na-bot .na-copy", has_text="已复制").last.wait_for(timeout=5_000)
    copied = staff.evaluate("navigator.clipboard.readText()")
    assert "1.4万个学位" in copied and "出处：" in copied and "二、（一）3. 五是" in copied


def test_refusal_state(staff):
    ask(staff, "住房公积金怎么提取？", ".na-refusal")
    refusal = staff.locator(".na-refusal").last
    assert "通知中没有找到答案" in refusal.inner_text() and not refusal.locator(".na-ref").count()
    staff.screenshot(path=str(ARTIFACTS / "chat-refusal.png"), full_page=True)


def test_suggested_question_is_answered(staff):
    staff.locator("#na-reset").click()
    staff.wait_for_function("!document.querySelector('#na-conv .na-msg')", timeout=10_000)
    suggestion = staff.locator("#na-suggest button").first
    question = suggestion.inner_text()
    suggestion.click()
    staff.locator(".na-bot:not(.na-pending)").first.wait_for(timeout=60_000)
    assert question in staff.locator(".na-user").first.inner_text()
    assert staff.locator(".na-bot .na-ref").count() >= 1


def test_outline_section_can_be_asked_about(staff):
    staff.get_by_role("tab", name="通知目录").click()
    staff.get_by_label("选择通知").click()
    staff.get_by_role("option", name="中共海安市委关于3个月内集中整改进展情况的通报").click()
    staff.locator(".na-outline").wait_for(timeout=10_000)
    assert "集中整改期内已完成的整改事项" in staff.locator(".na-outline").inner_text()
    staff.get_by_label("选择章节").click()
    staff.get_by_role("option", name="（一）集中整改期内已完成的整改事项").click()
    before = staff.locator(".na-bot").count()
    staff.get_by_role("button", name="就本节提问").click()
    staff.locator(".na-bot:not(.na-pending)").nth(before).wait_for(timeout=60_000)
    assert staff.locator("#na-conv").is_visible()  # back on the chat tab
    assert "海安" in staff.locator("#na-panel .na-turn.na-active").inner_text()


def test_phone_width(browser, live_server):
    page = open_page(browser, str(live_server.base_url) + "/", viewport={"width": 390, "height": 844},
                     is_mobile=True, has_touch=True)
    ask(page, ANSWERED, ".na-bot .na-ref")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator("#na-send").is_visible() and page.locator("#na-panel").count() == 1
    page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
    page.context.close()


# -- the kiosk and the embedded page ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def parent_origins():
    """Two pages on other origins that put /embed in an iframe: one allowed, one not."""
    servers, origins = [], []
    for _ in range(2):
        port = free_port()
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _ParentPage)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        origins.append(f"http://127.0.0.1:{port}")
    yield origins
    for srv in servers:
        srv.shutdown()


class _ParentPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):  # noqa: N802 - the http.server API
        body = (f"<!doctype html><meta charset=utf-8><title>intranet</title><h1>内网页面</h1>"
                f"<iframe id=na src='{self.target}' style='width:100%;height:700px;border:0'></iframe>").encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def kiosk_url(real_assistant, real_index, parent_origins):
    a = variant(real_assistant, real_index, kiosk=True, idle_reset_seconds=5, frame_ancestors=parent_origins[0])
    with serving(a) as client:
        yield str(client.base_url)


def test_kiosk_is_chat_only_and_reset_clears_it(browser, kiosk_url):
    page = open_page(browser, kiosk_url + "/")
    ready(page)
    assert page.locator("input[type=file]").count() == 0 and page.get_by_role("tab").count() == 0
    assert "管理" not in page.inner_text("body")
    ask(page, ANSWERED, ".na-bot .na-ref")
    page.screenshot(path=str(ARTIFACTS / "kiosk.png"), full_page=True)
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.na-bot')).fontSize)")
    assert size >= 20  # large text for a kiosk screen
    page.locator("#na-reset").click()
    page.wait_for_function("!document.querySelector('#na-conv .na-msg')", timeout=10_000)
    assert page.locator("#na-box textarea").input_value() == ""
    assert "1.4万个学位" not in page.inner_text("body")
    page.context.close()


def test_kiosk_idle_reset(browser, kiosk_url):
    page = open_page(browser, kiosk_url + "/")
    ask(page, "海安5月末制造业贷款余额是多少？", ".na-bot .na-ref")
    assert "459.51亿元" in page.inner_text("#na-conv")
    page.wait_for_function("!document.querySelector('#na-conv .na-msg')", timeout=15_000)  # idle for 5 s
    assert "459.51亿元" not in page.inner_text("body")
    page.context.close()


def test_embed_loads_in_an_iframe_of_an_allowed_origin_only(browser, kiosk_url, parent_origins):
    allowed, other = parent_origins
    _ParentPage.target = kiosk_url + "/embed/"
    page = open_page(browser, allowed + "/")
    frame = page.frame_locator("#na")
    ask(frame, ANSWERED, ".na-bot .na-ref")
    assert "1.4万个学位" in frame.locator(".na-bot").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "embed.png"), full_page=True)
    page.context.close()

    blocked = open_page(browser, other + "/")
    blocked.wait_for_timeout(3_000)
    inner = next(f for f in blocked.frames if f is not blocked.main_frame)
    assert inner.locator("#na-box").count() == 0  # refused by frame-ancestors
    blocked.context.close()


def test_admin_adds_notices_from_the_page_with_per_file_results(browser, tmp_path, corpus_copy):
    from assistant.embeddings import HashingEmbedder

    from .conftest import make_assistant

    a = make_assistant(tmp_path / "index", corpus_copy, HashingEmbedder(128), embedder="hash:128",
                       dense_weight=0.5, admin_token="t0ken")
    a.build_index()
    good = tmp_path / "夜市.txt"
    good.write_text("关于开展夜间集市试点的通知\n\n一、试点安排\n（一）首批在3个街道开设夜间集市。\n", encoding="utf-8")
    empty = tmp_path / "空白.txt"
    empty.write_bytes(b"")
    with serving(a) as client:
        page = open_page(browser, str(client.base_url) + "/")
        ready(page)
        page.get_by_role("tab", name="管理").click()
        page.locator("input[type=file]").set_input_files([str(good), str(empty)])
        page.get_by_label("管理口令").fill("wrong")
        page.get_by_role("button", name="添加并重建索引").click()
        page.get_by_text("管理口令不正确").wait_for(timeout=30_000)
        assert not (corpus_copy / "夜市.txt").exists()
        page.get_by_label("管理口令").fill("t0ken")
        page.get_by_role("button", name="添加并重建索引").click()
        page.locator(".na-files").wait_for(timeout=60_000)
        table = page.locator(".na-files").inner_text()
        assert "夜市.txt" in table and "已加入" in table and "空白.txt" in table and "文件是空的" in table
        assert "索引已重建：6 份通知" in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "admin.png"), full_page=True)
        (corpus_copy / "坏.pdf").write_bytes(b"%PDF-1.4 broken")  # a file put in the corpus by hand
        page.get_by_role("button", name="仅重建索引").click()
        page.get_by_text("跳过的文件").wait_for(timeout=60_000)
        assert "坏.pdf" in page.inner_text("body") and "不是有效的 PDF 文件" in page.inner_text("body")
        page.context.close()
    assert (corpus_copy / "夜市.txt").is_file() and "夜市" in a.index.notices


def test_no_request_leaves_the_machine():
    schemes = ("http", "https", "ws", "wss")
    hosts = {urlparse(u).hostname for u in REQUESTS if urlparse(u).scheme in schemes}
    assert REQUESTS and hosts <= {"127.0.0.1", "localhost"}, hosts
