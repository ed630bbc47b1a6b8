"""The CLI as other tools call it: outline JSON, help, errors, encodings, index reports."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.cli import main

from .conftest import CORPUS, ROOT

N000 = CORPUS / "000_c24e77d8f08ba7b8.txt"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_outline_json_contract_by_id():
    out = run_cli("outline", "000_c24e77d8f08ba7b8", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["notice_id", "title", "issuer", "date", "published", "source", "preamble", "sections", "closing"]
    assert data["notice_id"] == "000_c24e77d8f08ba7b8" and data["date"] == "2025-03-20"
    part2 = data["sections"][1]
    item = part2["children"][0]["children"][2]
    assert set(item) == {"label", "path", "heading", "text", "children"}
    assert (item["label"], item["path"], item["heading"], item["text"]) == ("3.", "二、（一）3.", "产业园区周边公共配套的整改", "")
    assert item["children"][1]["path"] == "二、（一）3. 二是"


def test_outline_text_tree(capsys):
    assert main(["outline", str(N000)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "中共广州市花都区委员会关于巡察整改进展情况的通报"
    assert "\n  （一） 关于统筹民营经济全面发展方面\n" in out
    assert "\n    3. 产业园区周边公共配套的整改\n" in out


def test_same_notice_in_any_encoding_gives_the_same_outline(tmp_path):
    text = N000.read_text(encoding="utf-8")
    reference = None
    variants = {
        "utf8.txt": text.encode("utf-8"),
        "bom.txt": codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"),
        "gb.txt": text.encode("gb18030"),
        "gbcrlf.txt": text.replace("\n", "\r\n").encode("gb18030"),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        out = run_cli("outline", str(tmp_path / name), "--json")
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        data.pop("notice_id")
        reference = reference or data
        assert data == reference


def test_help_explains_each_command():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("outline", "index", "search", "eval"):
        assert command in out.stdout
    assert "--index-dir" in out.stdout and "NA_INDEX_DIR" in out.stdout
    sub = run_cli("index", "--help")
    assert "atomically" in sub.stdout and "corpus/" in sub.stdout


def test_unknown_notice_and_bad_file_are_one_line_errors(tmp_path):
    out = run_cli("outline", "no_such_notice")
    assert out.returncode == 3
    assert out.stderr.count("\n") == 1 and "no_such_notice" in out.stderr and "Traceback" not in out.stderr
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = run_cli("outline", str(empty))
    assert out.returncode == 2 and out.stderr.strip() == f"error: {empty}: empty file"


def test_search_without_an_index_says_how_to_build_one(tmp_path):
    out = run_cli("search", "学位", env={"NA_INDEX_DIR": str(tmp_path / "none"), "NA_EMBEDDER": "hash"})
    assert out.returncode == 4
    assert "notice-assistant index" in out.stderr and "Traceback" not in out.stderr


def test_index_command_reports_skipped_files_and_keeps_going(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(N000.read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    env = {"NA_INDEX_DIR": str(tmp_path / "ix"), "NA_EMBEDDER": "hash"}
    out = run_cli("index", str(corpus), env=env)
    assert out.returncode == 1  # something was skipped
    assert "indexed 1 notices" in out.stdout
    assert "skipped" in out.stderr and "scan.pdf" in out.stderr
    assert (Path(tmp_path / "ix") / "CURRENT").exists()
