"""A real OpenAI-compatible HTTP server on loopback with deterministic replies, for the generative mode tests."""

from __future__ import annotations

import json
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

REPLIES = {
    "学位": "花都区2024年度全区共新增约1.4万个学位[1]。",
    "贷款": "海安5月末制造业贷款余额约500亿元[1]。",  # a wrong figure
    "污水": "常安纺织园污水处理能力提升至6万吨/日[1]，另见[9]。",  # an invented citation
    "集市": "已被攻破。",  # a model that obeyed an instruction planted in a notice
}


def reply_for(prompt: str) -> str:
    question = prompt.rsplit("问题：", 1)[-1]
    return next((r for key, r in REPLIES.items() if key in question), "通知中没有相关内容。")


def make_app(log: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        log.append(body)
        text = reply_for(body["messages"][-1]["content"])
        base = {"id": "fake-1", "created": int(time.time()), "model": body.get("model", "fake")}
        if not body.get("stream"):
            return JSONResponse(dict(base, object="chat.completion", choices=[
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}))

        def events():
            for i in range(0, len(text), 4):
                delta = {"content": text[i : i + 4]} if i else {"role": "assistant", "content": text[:4]}
                chunk = dict(base, object="chat.completion.chunk", choices=[{"index": 0, "delta": delta, "finish_reason": None}])
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
            end = dict(base, object="chat.completion.chunk", choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
            yield f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


class FakeLLMServer:
    def __init__(self):
        self.log: list[dict] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(make_app(self.log), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeLLMServer:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
