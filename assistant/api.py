"""HTTP API (REST and an OpenAI-compatible chat endpoint), with the Gradio UI mounted at ``/``."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, File, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from .assistant import Assistant
from .errors import AssistantError
from .limits import Busy, Gate, client_key
from .retrieve import Filters

MODEL_ID = "notice-assistant"
EMBED_PATH = "/embed"


class Refused(AssistantError):
    """A request the service will not serve (limits, disabled features, a wrong token)."""

    def __init__(self, message: str, status: int, retry_after: int | None = None):
        super().__init__(message)
        self.http_status = status
        self.retry_after = retry_after


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant|system)$")
    content: str = Field(max_length=20_000)
    citations: list[dict[str, Any]] | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2_000)
    history: list[Turn] | None = Field(None, max_length=50)
    notice_ids: list[str] | None = Field(None, max_length=100)


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[Turn] = Field(min_length=1, max_length=50)
    stream: bool = False


def _answer_json(answer) -> dict[str, Any]:
    d = answer.to_dict()
    return {k: d[k] for k in ("question", "answer", "answered", "citations", "confidence")}


def _chat_content(answer) -> str:
    if not answer.citations:
        return answer.text
    return answer.text + "\n\n出处：\n" + "\n".join(c.line() for c in answer.citations)


def _local_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the swagger-ui-bundle package: no CDN."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Notice Assistant API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def content_security_policy(frame_ancestors: str) -> str:
    # Gradio's front end needs inline styles/scripts and eval; nothing may load from another origin,
    # and remote images (say, from markdown in a notice) are not rendered.
    return ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {frame_ancestors}")


class RedactToken(logging.Filter):
    """Keep the admin token out of every log line (say a client puts it in a URL)."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token in str(record.msg):
            record.msg = str(record.msg).replace(self.token, "***")
        if isinstance(record.args, tuple) and any(self.token in str(a) for a in record.args):
            record.args = tuple(str(a).replace(self.token, "***") if self.token in str(a) else a for a in record.args)
        return True


def _is_embed(path: str) -> bool:
    return path == EMBED_PATH or path.startswith(EMBED_PATH + "/")


def _security(app: FastAPI, assistant: Assistant) -> None:
    """Headers on every response; file uploads only where the admin page needs them."""
    s = assistant.settings
    embed_csp = content_security_policy(" ".join(dict.fromkeys(["'self'", *s.origins("frame_ancestors")])))
    page_csp = content_security_policy("'self'")
    uploads_allowed = s.admin_enabled
    if s.admin_token:
        redact = RedactToken(s.admin_token.get_secret_value())
        for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "fastapi"):
            logging.getLogger(name).addFilter(redact)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        path = request.url.path
        if path.endswith("/gradio_api/upload") and (not uploads_allowed or _is_embed(path)):
            response = JSONResponse({"error": "uploads are disabled here"}, status_code=403)
        else:
            response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if _is_embed(path):
            response.headers["Content-Security-Policy"] = embed_csp
        else:
            response.headers["Content-Security-Policy"] = page_csp
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    app.add_middleware(BodyLimit, default=MAX_BODY, uploads=int(s.max_upload_mb * 1024 * 1024))
    origins = s.origins("cors_origins")
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)


class BodyLimit:
    """Pure ASGI middleware: refuse request bodies over a limit (413), whether announced or streamed."""

    def __init__(self, app, default: int, uploads: int):
        self.app, self.default, self.uploads = app, default, uploads

    def limit_for(self, path: str) -> int:
        return self.uploads if path == "/api/notices" or path.endswith("/gradio_api/upload") else self.default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._refuse(send, limit)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send, limit: int) -> None:
        body = json.dumps({"error": f"request body too large (limit {limit // 1024} KB)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


MAX_BODY = 1024 * 1024  # questions, histories and Gradio events; uploads have their own limit


def create_app(assistant: Assistant, gate: Gate | None = None) -> FastAPI:
    app = FastAPI(title="Notice Assistant API", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Answers from official notices with exact citations. Questions in plain Chinese.")
    _local_docs(app)
    _security(app, assistant)
    settings = assistant.settings
    gate = gate or Gate.from_settings(settings)

    @app.exception_handler(AssistantError)
    async def domain_error(_: Request, exc: AssistantError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else None
        return JSONResponse({"error": exc.message}, status_code=exc.http_status, headers=headers)

    question_limit = settings.kiosk_question_chars if settings.kiosk else None

    def admit(request: Request) -> None:
        client = client_key(request)
        if not gate.rate.allow(client):
            wait = gate.rate.retry_after(client)
            raise Refused(f"too many questions from this address; try again in {wait} s", 429, wait)

    @contextmanager
    def slot():
        try:
            with gate.admission.slot():
                yield
        except Busy:
            raise Refused("the service is busy; try again in a few seconds", 503, 5) from None

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        idx = assistant.index
        return {"status": "ok", "notices": len(idx.notices), "chunks": len(idx.chunks),
                "index_built": idx.manifest.get("created"), "version": idx.version}

    @app.post("/api/ask")
    def ask(req: AskRequest, request: Request) -> dict[str, Any]:
        admit(request)
        assistant.check_question(req.question, question_limit)
        history = [t.model_dump() for t in req.history] if req.history else None
        with slot():
            return _answer_json(assistant.ask(req.question, history=history,
                                              filters=Filters(tuple(req.notice_ids or ()))))

    @app.get("/api/search")
    def search(q: str = Query(..., min_length=1, max_length=2_000), k: int = Query(5, ge=1, le=50)) -> dict[str, Any]:
        return {"query": q, "hits": [h.to_dict() for h in assistant.search(q, k=k)]}

    @app.get("/api/notices")
    def notices() -> dict[str, Any]:
        keys = ("notice_id", "title", "issuer", "date", "published", "source")
        rows = [{k: n.get(k) for k in keys} for n in assistant.index.notices.values()]
        return {"notices": sorted(rows, key=lambda r: r["notice_id"])}

    @app.get("/api/notices/{notice_id}/outline")
    def outline(notice_id: str) -> dict[str, Any]:
        from .errors import NoticeNotFound

        notice = assistant.index.notices.get(notice_id)
        if notice is None:
            raise NoticeNotFound(f"no notice '{notice_id}' in the index")
        return {k: notice.get(k) for k in ("notice_id", "title", "issuer", "date", "published", "source",
                                           "preamble", "sections", "closing")}

    @app.post("/api/notices")
    def add(files: list[UploadFile] = File(..., description="notice files: txt, md, html, docx, pdf"),
            authorization: str | None = Header(None, description="Bearer <NA_ADMIN_TOKEN>")) -> dict[str, Any]:
        """Add notices to the corpus and rebuild the index (admin token; disabled in kiosk mode)."""
        from .admin import add_notices, token_ok

        if settings.kiosk:
            raise Refused("adding notices is disabled in kiosk mode", 403)
        if not settings.admin_token:
            raise Refused("adding notices is disabled (set NA_ADMIN_TOKEN to enable it)", 403)
        given = authorization[7:] if authorization and authorization.startswith("Bearer ") else None
        if not token_ok(given, settings.admin_token.get_secret_value()):
            raise Refused("missing or wrong admin token (Authorization: Bearer <token>)", 401)
        if len(files) > 50:
            raise Refused("at most 50 files per request", 413)
        uploads = [(f.filename or "upload", f.file.read(settings.max_file_bytes + 1)) for f in files]
        return add_notices(assistant, uploads).to_dict()

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest, request: Request):
        admit(request)
        turns = [t.model_dump() for t in req.messages if t.role != "system"]
        if not turns or turns[-1]["role"] != "user":
            raise AssistantError("the last message must come from the user")
        question, history = turns[-1]["content"], turns[:-1] or None
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": MODEL_ID}
        assistant.check_question(question, question_limit)
        if not req.stream:
            with slot():
                reply = assistant.ask(question, history=history)
            message = {"role": "assistant", "content": _chat_content(reply)}
            return dict(base, object="chat.completion",
                        choices=[{"index": 0, "message": message, "finish_reason": "stop"}],
                        citations=[c.to_dict() for c in reply.citations], answered=reply.answered,
                        usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})

        events = assistant.ask_stream(question, history=history)
        with slot():  # retrieval and checks happen before the first event
            first = next(events)

        def sse():
            def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
                body = dict(base, object="chat.completion.chunk",
                            choices=[{"index": 0, "delta": delta, "finish_reason": finish}], **extra)
                return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

            yield chunk({"role": "assistant", "content": ""})
            streamed = ""
            for kind, payload in [first, *events]:
                if kind == "delta":
                    streamed += payload
                    yield chunk({"content": payload})
                else:
                    final = _chat_content(payload)
                    # A generated reply that failed its checks is replaced: say so, then send the checked answer.
                    tail = final[len(streamed):] if final.startswith(streamed) else "\n\n（更正）\n" + final
                    yield chunk({"content": tail}) if tail else ""
                    yield chunk({}, "stop", citations=[c.to_dict() for c in payload.citations],
                                answered=payload.answered)
            yield "data: [DONE]\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream")

    return app


def build_server_app(assistant: Assistant):
    """The API, the compact chat at ``/embed`` and the staff (or kiosk) page at ``/``."""
    import gradio as gr

    from .ui import THEME, build_ui, page_css, page_js

    from fastapi.responses import RedirectResponse

    s = assistant.settings
    gate = Gate.from_settings(s)
    app = create_app(assistant, gate)
    app.add_api_route(EMBED_PATH, lambda: RedirectResponse(EMBED_PATH + "/"), include_in_schema=False)
    main = "kiosk" if s.kiosk else "staff"
    common = dict(theme=THEME, footer_links=[], mcp_server=False, pwa=False, ssr_mode=False, show_error=False,
                  max_file_size=f"{s.max_file_mb:g}mb")
    gr.mount_gradio_app(app, build_ui(assistant, "embed", gate), path=EMBED_PATH, css=page_css("embed"), **common)
    return gr.mount_gradio_app(app, build_ui(assistant, main, gate), path="/", css=page_css(main),
                               js=page_js(main, s), **common)


def serve(host: str = "127.0.0.1", port: int = 7860, assistant: Assistant | None = None, kiosk: bool | None = None) -> None:
    """One uvicorn process: the index is ready before the port is."""
    import uvicorn

    from .config import get_settings
    from .startup import prepare_index

    # Gradio takes seconds to import; let that overlap with loading and verifying the index.
    threading.Thread(target=lambda: __import__("gradio"), name="import-gradio", daemon=True).start()

    if assistant is None:
        settings = get_settings()
        if kiosk is not None:
            settings = settings.model_copy(update={"kiosk": kiosk})
        assistant = Assistant(settings)
    elif kiosk is not None:
        assistant.settings = assistant.settings.model_copy(update={"kiosk": kiosk})
    prepare_index(assistant)
    mode = "kiosk" if assistant.settings.kiosk else "staff"
    print(f"serving the {mode} page at http://{host}:{port}/ (embed: /embed, API docs: /docs)", flush=True)
    server = uvicorn.Server(uvicorn.Config(build_server_app(assistant), host=host, port=port, log_level="info"))

    def warm_up() -> None:  # once the port is open: the first query's lazy loads and the suggested questions
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        assistant.suggestions()

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    server.run()
