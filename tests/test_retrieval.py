"""Chunking, normalisation, fusion, the index on disk, and hybrid search (fast hashing embedder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from assistant.chunking import MAX_CHARS, chunk_notice, embed_views, split_long
from assistant.embeddings import HashingEmbedder
from assistant.errors import IndexBusy, IndexMismatch, IndexMissing
from assistant.parse import parse_file
from assistant.retrieve import Filters, NoticeRetriever, rrf
from assistant.store import WriteLock, current_dir, load_index
from assistant.text import normalize_query, squash, tokenize

from .conftest import CORPUS, make_assistant

# -- pure functions ----------------------------------------------------------------


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([[1, 2, 3], [3, 1]], k=10)
    scores = dict(fused)
    assert scores[1] == pytest.approx(1 / 11 + 1 / 12)
    assert scores[3] == pytest.approx(1 / 13 + 1 / 11)
    assert scores[2] == pytest.approx(1 / 12)
    assert [d for d, _ in fused] == [1, 3, 2]


def test_rrf_weights_and_deterministic_ties():
    assert [d for d, _ in rrf([[1], [2]], k=60, weights=[2.0, 1.0])] == [1, 2]
    assert [d for d, _ in rrf([[2], [1]], k=60)] == [1, 2]  # equal score and best rank: by id
    with pytest.raises(ValueError):
        rrf([[1]], weights=[1.0, 2.0])
    assert rrf([]) == []


def test_normalize_query():
    assert normalize_query("花都區的生物醫藥產業園？") == "花都区的生物医药产业园?"
    assert normalize_query("  ２０２４年\t新增  学位 ") == "2024年 新增 学位"


def test_tokenize_splits_chinese_and_drops_stopwords():
    tokens = tokenize("海安5月末制造业贷款余额是多少？")
    assert {"海安", "制造业", "贷款", "余额"} <= set(tokens)
    assert "是" not in tokens and "多少" not in tokens and "？" not in tokens


def test_split_long_keeps_sentences_and_limit():
    text = "".join(f"第{i}句内容比较长一些用于测试。" for i in range(100))
    parts = split_long(text, 120)
    assert "".join(parts) == text
    assert all(len(p) <= 120 for p in parts)
    assert all(p.endswith("。") for p in parts)


# -- chunks on the real notices -------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem[:3])
def test_chunks_are_cited_units_with_spans(path: Path):
    notice = parse_file(path)
    chunks = chunk_notice(notice)
    assert chunks and len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert 0 < len(c.text) <= MAX_CHARS
        assert squash(c.text)[:30] in squash(notice.body[c.start : c.end])
        assert c.trail.startswith(notice.title)
        assert embed_views(c)[0].endswith(c.text)
    leaves = [s for s in notice.walk() if not s.children]
    cited = {c.path for c in chunks}
    assert all(s.path in cited for s in leaves if s.heading or s.text)


def test_chunk_paths_point_at_measures():
    notice = parse_file(next(CORPUS.glob("000_*.txt")))
    by_path = {c.path: c for c in chunk_notice(notice)}
    c = by_path["二、（一）3. 二是"]
    assert c.label == "二是" and c.text.startswith("持续完善园区周边配套。打通宝华路")
    assert c.notice_date == "2025-03-20"
    assert "（一）关于统筹民营经济全面发展方面" in c.trail and "3.产业园区周边公共配套的整改" in c.trail
    assert c.citation_label() == "中共广州市花都区委员会关于巡察整改进展情况的通报（2025-03-20） 二、（一）3. 二是"


# -- the index on disk ----------------------------------------------------------------


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int = 128):
        super().__init__(dim)
        self.seen: list[str] = []

    def encode_documents(self, texts):
        self.seen.extend(texts)
        return super().encode_documents(texts)


def test_index_layout_manifest_and_no_pickle(hash_assistant):
    d = current_dir(hash_assistant.settings.index_dir)
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["schema_version"] == 1
    assert manifest["embedder"] == {"name": "hash:128", "dim": 128}
    assert set(manifest["sources"]) == {p.stem for p in CORPUS.glob("*.txt")}
    assert all(len(s["sha256"]) == 64 for s in manifest["sources"].values())
    assert "vectors.faiss" in manifest["files"] and "chunks.jsonl" in manifest["files"]
    for p in d.rglob("*"):
        assert p.suffix not in (".pkl", ".pickle")
        if p.suffix == ".npy":
            np.load(p, allow_pickle=False)


def test_incremental_reindex_embeds_only_what_changed(tmp_path, corpus_copy):
    emb = CountingEmbedder()
    a = make_assistant(tmp_path / "index", corpus_copy, emb, embedder="hash:128", dense_weight=0.5)
    first = a.build_index()
    assert first.embedded == first.chunks and first.notices == 5

    target = next(corpus_copy.glob("003_*.txt"))
    os.utime(target, None)  # touched, content unchanged
    emb.seen.clear()
    again = a.build_index()
    assert again.embedded == 0 and emb.seen == [] and again.chunks == first.chunks

    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("20名观察员应聘上岗", "25名观察员应聘上岗"), encoding="utf-8")
    changed = a.build_index()
    assert 1 <= changed.embedded <= 2
    assert emb.seen and all("海安" in t for t in emb.seen)
    assert any("25名观察员" in h.chunk.text for h in a.search("观察员有多少名", k=5))

    next(corpus_copy.glob("001_*.txt")).unlink()
    removed = a.build_index()
    assert removed.removed == ["001_bad217758a4ce3f3"] and removed.notices == 4
    assert all(c.notice_id != "001_bad217758a4ce3f3" for c in a.index.chunks)


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path, corpus_copy):
    (corpus_copy / "empty.txt").write_bytes(b"")
    (corpus_copy / "blob.txt").write_bytes(bytes(range(256)) * 10)
    a = make_assistant(tmp_path / "index", corpus_copy, HashingEmbedder(64), embedder="hash:64", dense_weight=0.5)
    report = a.build_index()
    assert report.notices == 5
    assert {Path(f.path).name: f.message for f in report.failed} == {
        "blob.txt": "binary file, not text",
        "empty.txt": "empty file",
    }


def test_loading_with_another_embedder_is_a_clear_error(hash_assistant):
    index_dir = hash_assistant.settings.index_dir
    with pytest.raises(IndexMismatch, match=r"hash:128 \(dim 128\).*hash:64.*notice-assistant index"):
        load_index(index_dir, "hash:64", 64)
    with pytest.raises(IndexMissing, match="notice-assistant index"):
        load_index(index_dir.parent / "nowhere", "hash:128", 128)


def test_corrupted_index_file_is_refused(hash_assistant):
    index_dir = hash_assistant.settings.index_dir
    chunks = current_dir(index_dir) / "chunks.jsonl"
    chunks.write_text(chunks.read_text().replace("花都", "花园", 1))
    with pytest.raises(IndexMismatch, match="corrupted"):
        load_index(index_dir, "hash:128", 128)


def test_one_writer_at_a_time(hash_assistant):
    with WriteLock(hash_assistant.settings.index_dir):
        with pytest.raises(IndexBusy):
            hash_assistant.build_index()


def test_stale_corpus_is_detected(hash_assistant):
    assert hash_assistant.index_status()["stale"] == []
    (hash_assistant.settings.corpus_dir / "new_notice.txt").write_text("关于测试的通知\n一、总体要求\n内容。", encoding="utf-8")
    assert hash_assistant.index_status()["stale"] == ["new_notice"]


# -- search -----------------------------------------------------------------------------


def test_search_hits_carry_the_contract_fields(hash_assistant):
    hits = hash_assistant.search("海安5月末制造业贷款余额是多少？", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    d = hits[0].to_dict()
    assert set(d) == {"rank", "notice_id", "notice_title", "path", "label", "text", "score"}
    assert d["notice_id"].startswith("003_") and "459.51亿元" in d["text"]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_filters_restrict_notices_and_dates(hash_assistant):
    only = Filters(notice_ids=("002_b34043a502c411eb",))
    assert {h.chunk.notice_id for h in hash_assistant.search("学位", k=10, filters=only)} == {"002_b34043a502c411eb"}
    old = Filters(date_to="2022-01-01")
    assert {h.chunk.notice_id for h in hash_assistant.search("整改", k=10, filters=old)} == {"004_f3be9611ac394c10"}
    issuer = Filters(issuer="海安")
    assert {h.chunk.notice_id for h in hash_assistant.search("整改", k=10, filters=issuer)} == {"003_c05d59ada4051b56"}
    assert hash_assistant.search("整改", k=5, filters=Filters(notice_ids=("nope",))) == []


def test_langchain_retriever_adapter(hash_assistant):
    docs = NoticeRetriever(assistant=hash_assistant, k=2).invoke("常安纺织园污水处理能力提升到多少？")
    assert len(docs) == 2
    assert "6万吨/日" in docs[0].page_content
    assert docs[0].metadata["notice_id"].startswith("003_") and docs[0].metadata["path"]


def test_embedding_cache_can_live_elsewhere(tmp_path, corpus_copy):
    cache = tmp_path / "shared-cache"
    a = make_assistant(tmp_path / "index", corpus_copy, HashingEmbedder(64), embedder="hash:64", cache_dir=cache)
    a.build_index()
    assert (cache / "hash_64" / "vectors.npy").exists() and not (tmp_path / "index" / "cache").exists()
    other = make_assistant(tmp_path / "index2", corpus_copy, CountingEmbedder(64), embedder="hash:64", cache_dir=cache)
    assert other.build_index().embedded == 0 and other.embedder.seen == []
