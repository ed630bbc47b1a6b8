"""The HTTP API against a real server on loopback (uvicorn, the Gradio UI mounted at /)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.slow


def test_healthz(server, real_assistant):
    body = server.get("/healthz").json()
    assert body["status"] == "ok" and body["notices"] == 5 and body["chunks"] == len(real_assistant.index.chunks)
    assert body["index_built"]


def test_ask_matches_the_cli_contract(server):
    r = server.post("/api/ask", json={"question": "海安5月末制造业贷款余额是多少？"})
    assert r.status_code == 200
    body = r.json()
    assert {"question", "answer", "answered", "citations"} <= set(body) and body["answered"] is True
    assert "459.51亿元" in body["answer"]
    c = body["citations"][0]
    assert c["n"] == 1 and c["notice_id"].startswith("003_") and c["path"] and "459.51亿元" in c["text"]


def test_ask_with_a_notice_filter_and_history(server):
    only = server.post("/api/ask", json={"question": "新增了多少学位？", "notice_ids": ["004_f3be9611ac394c10"]}).json()
    assert {c["notice_id"] for c in only["citations"]} <= {"004_f3be9611ac394c10"}
    history = [{"role": "user", "content": "住房公积金怎么提取？"}, {"role": "assistant", "content": "…"}]
    refused = server.post("/api/ask", json={"question": "那怎么申请呢？", "history": history}).json()
    assert refused["answered"] is False and refused["citations"] == []


def test_search_notices_and_outline(server):
    body = server.get("/api/search", params={"q": "市工信局加挂了什么牌子", "k": 2}).json()
    assert len(body["hits"]) == 2 and "加挂市民营经济和中小企业局牌子" in body["hits"][0]["text"]
    notices = server.get("/api/notices").json()["notices"]
    assert [n["notice_id"][:3] for n in notices] == ["000", "001", "002", "003", "004"]
    outline = server.get("/api/notices/000_c24e77d8f08ba7b8/outline").json()
    assert outline["title"] == "中共广州市花都区委员会关于巡察整改进展情况的通报"
    assert outline["sections"][1]["children"][0]["children"][2]["path"] == "二、（一）3."
    missing = server.get("/api/notices/nope/outline")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_bad_requests_are_4xx_with_a_reason(server):
    assert server.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    assert server.post("/api/ask", json={"question": ""}).status_code == 422
    assert server.post("/api/ask", json={"question": "问" * 5000}).status_code == 422
    r = server.post("/api/ask", json={"question": "   "})
    assert r.status_code == 422 and r.json() == {"error": "the question is empty"}
    assert server.get("/api/search", params={"q": "x", "k": 500}).status_code == 422


def test_openai_compatible_chat(server):
    r = server.post("/v1/chat/completions", json={"model": "notice-assistant", "messages": [
        {"role": "system", "content": "ignored"}, {"role": "user", "content": "花都区2024年新增了多少学位？"}]})
    body = r.json()
    content = body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion" and "1.4万个学位" in content and "出处" in content
    assert body["citations"][0]["path"] == "二、（一）3. 五是"
    assert server.get("/v1/models").json()["data"][0]["id"] == "notice-assistant"


def test_openai_compatible_streaming(server):
    with server.stream("POST", "/v1/chat/completions", json={
            "stream": True, "messages": [{"role": "user", "content": "花都区2024年新增了多少学位？"}]}) as r:
        lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(ln[6:]) for ln in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "1.4万个学位" in text and chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_the_ui_is_mounted_and_offline(server):
    page = server.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "fonts.googleapis" not in page.text and "cdn.jsdelivr" not in page.text


def test_api_docs_are_served_without_a_cdn(server):
    page = server.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert not re.findall(r"""(?:src|href)=["']https?://""", page.text)
    assert server.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    schema = server.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/notices", "/v1/chat/completions", "/healthz"} <= set(schema["paths"])

