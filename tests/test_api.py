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



# -- pages, headers, kiosk and admin ----------------------------------------------------------------------

PARENT = "http://127.0.0.1:8123"


@pytest.fixture(scope="module")
def kiosk(real_assistant, real_index):
    from .conftest import serving, variant

    a = variant(real_assistant, real_index, kiosk=True, rate_per_minute=3, frame_ancestors=PARENT,
                cors_origins="http://intranet.example", admin_token="would-be-ignored")
    with serving(a) as client:
        yield client


def _config(client, path: str) -> dict:
    return client.get(path.rstrip("/") + "/config").json()


def test_security_headers_on_pages_and_api(server):
    for path in ("/", "/api/notices", "/healthz", "/docs"):
        h = server.get(path).headers
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer", path
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "img-src 'self' data:" in csp
        assert h["x-frame-options"] == "SAMEORIGIN"


def test_embed_page_may_be_framed_only_by_configured_origins(server, kiosk):
    assert server.get("/embed", follow_redirects=False).headers["location"] == "/embed/"
    default = server.get("/embed/")
    assert default.status_code == 200 and "x-frame-options" not in default.headers
    assert default.headers["content-security-policy"].endswith("frame-ancestors 'self'")
    allowed = kiosk.get("/embed/").headers["content-security-policy"]
    assert allowed.endswith(f"frame-ancestors 'self' {PARENT}")


def test_cors_only_for_configured_origins(kiosk):
    pre = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    ok = kiosk.options("/api/ask", headers={"origin": "http://intranet.example", **pre})
    assert ok.headers.get("access-control-allow-origin") == "http://intranet.example"
    other = kiosk.options("/api/ask", headers={"origin": "http://evil.example", **pre})
    assert other.headers.get("access-control-allow-origin") is None


def test_kiosk_has_no_admin_no_uploads_and_only_chat_endpoints(kiosk):
    r = kiosk.post("/api/notices", files={"files": ("a.txt", "一、内容".encode())}, headers={
        "authorization": "Bearer would-be-ignored"})
    assert r.status_code == 403 and "kiosk" in r.json()["error"]
    for path in ("/gradio_api/upload", "/embed/gradio_api/upload"):
        assert kiosk.post(path, files={"files": ("a.txt", b"x")}).status_code == 403
    config = _config(kiosk, "/")
    types = {c["type"] for c in config["components"]}
    assert "file" not in types and "dropdown" not in types and "tabs" not in types
    assert {d["api_visibility"] for d in config["dependencies"]} == {"private"}
    assert len(config["dependencies"]) <= 8  # ask (box, button, suggestions) and reset; nothing else
    assert "/gradio_api/upload" not in kiosk.get("/openapi.json").text


def test_kiosk_rate_limit_is_a_polite_429(kiosk):
    codes = [kiosk.post("/api/ask", json={"question": "花都区新增了多少学位？"}).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = kiosk.post("/api/ask", json={"question": "花都区新增了多少学位？"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "try again" in r.json()["error"]


def test_kiosk_question_length_limit(kiosk):
    r = kiosk.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "问" * 201}]})
    assert r.status_code in (422, 429)  # the rate limit may already apply; either way nothing is answered


def test_staff_page_has_admin_only_with_a_token(server, real_assistant, real_index):
    from .conftest import serving, variant

    assert "file" not in {c["type"] for c in _config(server, "/")["components"]}
    assert server.post("/api/notices", files={"files": ("a.txt", b"x")}).status_code == 403
    with serving(variant(real_assistant, real_index, admin_token="t0ken")) as admin:
        assert "file" in {c["type"] for c in _config(admin, "/")["components"]}
        assert admin.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 200


def test_adding_notices_over_http(tmp_path, corpus_copy):
    from assistant.embeddings import HashingEmbedder

    from .conftest import make_assistant, serving

    a = make_assistant(tmp_path / "index", corpus_copy, HashingEmbedder(128), embedder="hash:128",
                       admin_token="t0ken")
    a.build_index()
    notice = "关于开展夜间集市试点的通知\n\n一、试点安排\n（一）首批在3个街道开设夜间集市。\n".encode()
    with serving(a) as client:
        files = [("files", ("夜市.txt", notice)), ("files", ("empty.txt", b""))]
        assert client.post("/api/notices", files=files).status_code == 401
        assert client.post("/api/notices", files=files, headers={"authorization": "Bearer nope"}).status_code == 401
        r = client.post("/api/notices", files=files, headers={"authorization": "Bearer t0ken"})
        assert r.status_code == 200
        body = r.json()
        assert [f["status"] for f in body["files"]] == ["added", "rejected"] and body["index"]["notices"] == 6
        titles = [n["title"] for n in client.get("/api/notices").json()["notices"]]
        assert "关于开展夜间集市试点的通知" in titles
        assert client.get("/healthz").json()["notices"] == 6
