"""HTTP API (REST and an OpenAI-compatible chat endpoint), with the Gradio UI mounted at ``/``."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from .assistant import Assistant
from .errors import AssistantError
from .retrieve import Filters

MODEL_ID = "notice-assistant"


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


def create_app(assistant: Assistant) -> FastAPI:
    app = FastAPI(title="Notice Assistant API", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Answers from official notices with exact citations. Questions in plain Chinese.")
    _local_docs(app)

    @app.exception_handler(AssistantError)
    async def domain_error(_: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.http_status)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        idx = assistant.index
        return {"status": "ok", "notices": len(idx.notices), "chunks": len(idx.chunks),
                "index_built": idx.manifest.get("created"), "version": idx.version}

    @app.post("/api/ask")
    def ask(req: AskRequest) -> dict[str, Any]:
        history = [t.model_dump() for t in req.history] if req.history else None
        answer = assistant.ask(req.question, history=history, filters=Filters(tuple(req.notice_ids or ())))
        return _answer_json(answer)

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

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest):
        turns = [t.model_dump() for t in req.messages if t.role != "system"]
        if not turns or turns[-1]["role"] != "user":
            raise AssistantError("the last message must come from the user")
        question, history = turns[-1]["content"], turns[:-1] or None
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": MODEL_ID}
        if not req.stream:
            answer = assistant.ask(question, history=history)
            message = {"role": "assistant", "content": _chat_content(answer)}
            return dict(base, object="chat.completion",
                        choices=[{"index": 0, "message": message, "finish_reason": "stop"}],
                        citations=[c.to_dict() for c in answer.citations], answered=answer.answered,
                        usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})

        events = assistant.ask_stream(question, history=history)  # errors surface before streaming starts
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
    """The API plus the Gradio UI mounted at ``/``."""
    import gradio as gr

    from .ui import THEME, build_ui

    app = create_app(assistant)
    return gr.mount_gradio_app(app, build_ui(assistant), path="/", theme=THEME, footer_links=[])


def serve(host: str = "127.0.0.1", port: int = 7860, assistant: Assistant | None = None) -> None:
    """One uvicorn process: the index is ready before the port is."""
    import uvicorn

    from .ui import prepare_index

    assistant = assistant or Assistant()
    prepare_index(assistant)
    uvicorn.run(build_server_app(assistant), host=host, port=port, log_level="info")
