"""Load test: many kiosk visitors asking at once, against a real server on loopback, with an index rebuild midway.

Starts ``notice-assistant serve --kiosk`` in a subprocess over a copy of ``index/``, then runs
``--users`` simulated visitors for ``--duration`` seconds. Each visitor speaks the same
protocol as the kiosk page in a browser (Gradio's queue: ``/gradio_api/queue/join`` and the
``/gradio_api/queue/data`` event stream, one session per visitor), asks a question from the
dev set (answerable and unanswerable alike), waits for the complete answer, pauses for a
think time, and asks again. At ``--rebuild-at`` seconds a separate ``notice-assistant index``
process rebuilds the index with an empty embedding cache (every chunk embedded again, the
most CPU a rebuild can take); the server keeps answering from the old version and switches
when the new one is current.

Latency is from joining the queue to the final answer. An error is anything but a complete
answer: HTTP errors, a failed event, the polite "busy" or rate message, a timeout.
All visitors come from 127.0.0.1, so the per-client rate limit is turned off for the run
(it would otherwise treat them as one person).

Usage: .venv/bin/python benchmarks/load.py [--users 20] [--duration 120] [--rebuild-at 60] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
FALLBACK_QUESTIONS = ["花都区2024年新增了多少学位？", "海安市对涉企检查做了哪些整改？", "市工信局加挂了什么牌子？",
                      "住房公积金怎么提取？"]
BUSY_MARKS = ("现在提问的人比较多", "提问太频繁了")


def questions() -> list[str]:
    if DEV.exists():
        return [json.loads(line)["q"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return FALLBACK_QUESTIONS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Kiosk:
    """The kiosk page's chat event, found in the page config like the browser finds it."""

    def __init__(self, config: dict):
        ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
        self.send = ids["na-send"]
        dep = next(d for d in config["dependencies"] if [self.send, "click"] in [list(t) for t in d["targets"]])
        self.fn_index = dep["id"]
        self.n_inputs = len(dep["inputs"])


async def ask(client: httpx.AsyncClient, kiosk: Kiosk, session: str, question: str, timeout: float) -> tuple[bool, str]:
    data = [question] + [None] * (kiosk.n_inputs - 1)  # the conversation state lives on the server
    join = await client.post("/gradio_api/queue/join", json={
        "data": data, "fn_index": kiosk.fn_index, "trigger_id": kiosk.send, "session_hash": session,
        "event_data": None})
    if join.status_code != 200:
        return False, f"join HTTP {join.status_code}"
    event_id = join.json().get("event_id")
    async with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session},
                             timeout=timeout) as stream:
        if stream.status_code != 200:
            return False, f"stream HTTP {stream.status_code}"
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("event_id") not in (None, event_id):
                continue
            if msg.get("msg") == "process_completed":
                if not msg.get("success"):
                    return False, "event failed"
                conv = (msg.get("output") or {}).get("data", [""])[0] or ""
                conv = conv if isinstance(conv, str) else json.dumps(conv, ensure_ascii=False)
                if any(mark in conv for mark in BUSY_MARKS):
                    return False, "busy"
                if "na-bot" not in conv:
                    return False, "no answer in the page"
                return True, ""
            if msg.get("msg") == "close_stream":
                break
    return False, "stream ended without an answer"


async def visitor(base: str, kiosk: Kiosk, pool: list[str], until: float, think: tuple[float, float],
                  results: list, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.sleep(rng.uniform(0, think[1]))  # visitors do not all arrive at once
        while time.monotonic() < until:
            session = uuid.uuid4().hex[:11]  # one visitor per session, like a fresh kiosk page
            start = time.monotonic()
            try:
                ok, why = await ask(client, kiosk, session, rng.choice(pool), timeout=60)
            except (httpx.HTTPError, json.JSONDecodeError) as exc:
                ok, why = False, type(exc).__name__
            results.append((start, time.monotonic() - start, ok, why))
            await asyncio.sleep(rng.uniform(*think))


def start_server(index_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, NA_RATE_PER_MINUTE="0", NA_REBUILD_ON_START="0", NA_CORPUS_DIR=str(ROOT / "corpus"))
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "--index-dir", str(index_dir), "serve", "--kiosk", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def summarize(label: str, rows: list) -> str:
    lat = [r[1] for r in rows if r[2]]
    errors = [r for r in rows if not r[2]]
    span = (max(r[0] + r[1] for r in rows) - min(r[0] for r in rows)) if rows else 0
    reasons = ", ".join(f"{k} ×{sum(1 for e in errors if e[3] == k)}" for k in sorted({e[3] for e in errors}))
    return (f"| {label} | {len(rows)} | {len(rows) / span if span else 0:.1f} | {pct(lat, 50) * 1000:.0f} | "
            f"{pct(lat, 95) * 1000:.0f} | {pct(lat, 99) * 1000:.0f} | {max(lat) * 1000 if lat else 0:.0f} | "
            f"{len(errors)}{f' ({reasons})' if reasons else ''} |")


async def run(args) -> str:
    index_src = ROOT / "index"
    if not (index_src / "CURRENT").exists():
        raise SystemExit("no index/ yet: run ./run.sh app once (or notice-assistant index) first")
    work = Path(tempfile.mkdtemp(prefix="na-load-"))
    index_dir = work / "index"
    shutil.copytree(index_src, index_dir, ignore=shutil.ignore_patterns(".lock"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(index_dir, port)
    rebuild = None
    try:
        wait_ready(base, server)
        before = httpx.get(base + "/healthz").json()["version"]
        kiosk = Kiosk(httpx.get(base + "/config").json())
        httpx.get(base + "/", timeout=30)  # the page itself, as a visitor's browser would load it
        time.sleep(3)  # the server warms up (model, dictionary, suggestions) right after the port opens
        pool = questions()
        results: list = []
        t0 = time.monotonic()
        until = t0 + args.duration
        tasks = [asyncio.create_task(visitor(base, kiosk, pool, until, args.think, results, seed))
                 for seed in range(args.users)]
        rebuild_window = (float("inf"), float("inf"))
        if 0 <= args.rebuild_at < args.duration:
            await asyncio.sleep(args.rebuild_at)
            env = dict(os.environ, NA_CACHE_DIR=str(work / "empty-cache"), NA_CORPUS_DIR=str(ROOT / "corpus"))
            r0 = time.monotonic()
            rebuild = subprocess.Popen(
                [sys.executable, "-m", "assistant", "--index-dir", str(index_dir), "index"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=(lambda: os.nice(args.rebuild_nice)) if args.rebuild_nice else None)
            while rebuild.poll() is None and time.monotonic() < until:
                await asyncio.sleep(0.5)
            rebuild_window = (r0, time.monotonic())
        await asyncio.gather(*tasks)
        rebuild_note = "no rebuild"
        if rebuild is not None:
            done = rebuild.wait()
            took = time.monotonic() - rebuild_window[0]
            after, deadline = before, time.time() + 15  # the server notices the new CURRENT within seconds
            while after == before and time.time() < deadline:
                after = httpx.get(base + "/healthz").json()["version"]
                time.sleep(0.5)
            rebuild_note = (f"rebuild (empty embedding cache, nice {args.rebuild_nice}) exit {done}, {took:.0f} s; the server "
                            f"{'switched to the new version' if after != before else 'still serves the old version'}")
        during = [r for r in results if rebuild_window[0] <= r[0] < rebuild_window[1]]
        steady = [r for r in results if r[0] < rebuild_window[0]]
        lines = [
            f"Load test: {args.users} kiosk visitors for {args.duration} s, think time {args.think[0]:g}–"
            f"{args.think[1]:g} s, {os.cpu_count()} cores; {rebuild_note}.",
            "",
            "| phase | answers | per s | p50 ms | p95 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|---|",
            summarize("steady", steady),
        ]
        if during:
            lines.append(summarize("while rebuilding", during))
        lines.append(summarize("all", results))
        return "\n".join(lines)
    finally:
        if rebuild is not None and rebuild.poll() is None:
            rebuild.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=20, help="simulated visitors (default 20)")
    p.add_argument("--duration", type=float, default=120, help="seconds of asking (default 120)")
    p.add_argument("--rebuild-at", type=float, default=60, help="start an index rebuild after this many seconds "
                   "(default 60; negative: no rebuild)")
    p.add_argument("--rebuild-nice", type=int, default=10, help="niceness of the rebuild process (default 10, as "
                   "the README advises next to a live server; 0 = same priority as the server)")
    p.add_argument("--think", type=lambda s: tuple(float(x) for x in s.split(",")), default=(1.0, 3.0),
                   help="pause between a visitor's questions, min,max seconds (default 1,3)")
    p.add_argument("--out", type=Path, help="also write the table to this file")
    args = p.parse_args()
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
