"""The page in a real browser: Debian's chromium driven by Playwright against the real server."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(live_server):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: ./run.sh test installs it (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(str(live_server.base_url) + "/", wait_until="load")  # Gradio keeps a connection open
        pg.get_by_placeholder("例如：海安市对涉企检查做了哪些整改？").wait_for(timeout=30_000)
        pg.requests = requests
        yield pg
        browser.close()


def ask(page, question: str, expect: str) -> str:
    box = page.get_by_placeholder("例如：海安市对涉企检查做了哪些整改？")
    box.fill(question)
    page.get_by_role("button", name="提问").click()
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=expect, timeout=60_000)
    page.wait_for_timeout(300)
    return page.inner_text("body")


def test_ask_and_see_the_cited_unit(page):
    text = ask(page, "花都区2024年新增了多少学位？", "二、（一）3. 五是")
    assert "1.4万个学位" in text and "[1]" in text
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)


def test_refusal_state(page):
    text = ask(page, "住房公积金怎么提取？", "通知中没有找到答案")
    assert "现有通知中没有找到" in text
    page.screenshot(path=str(ARTIFACTS / "chat-refusal.png"), full_page=True)


def test_no_request_leaves_the_machine(page):
    hosts = {urlparse(u).hostname for u in page.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert page.requests and hosts <= {"127.0.0.1", "localhost"}, hosts
