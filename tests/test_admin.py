"""Adding notices from the web: per-file results, nothing overwritten, the index rebuilt with the new notice."""

from __future__ import annotations

import io

from assistant.admin import add_notices, reason_zh, safe_name, token_ok

NEW = """关于推进社区食堂建设的通知

各街道：
一、建设目标
（一）2025年底前建成社区食堂42家，覆盖全部街道。
二、保障措施
（一）每家食堂给予一次性建设补贴15万元。

示例市民政局
2025年6月3日
""".encode("utf-8")


def test_good_files_are_added_and_searchable_bad_ones_explained(hash_assistant):
    corpus = hash_assistant.settings.corpus_dir
    before = sorted(p.name for p in corpus.iterdir())
    existing = corpus / before[0]
    report = add_notices(hash_assistant, [
        ("社区食堂.txt", NEW),
        ("empty.txt", b""),
        ("blob.pdf", b"%PDF-1.4 not really"),
        ("notes.exe", b"MZ\x90\x00"),
        (existing.name, b"different text with the same name"),
        ("copy.txt", existing.read_bytes()),
        ("../../escape.md", "# 标题\n\n一、内容\n这是正文。".encode()),
    ])
    status = {f.name: f.status for f in report.files}
    assert status == {"社区食堂.txt": "added", "empty.txt": "rejected", "blob.pdf": "rejected",
                      "notes.exe": "rejected", existing.name: "rejected", "copy.txt": "unchanged",
                      "../../escape.md": "added"}
    messages = {f.name: f.message for f in report.files}
    assert "空" in messages["empty.txt"] and "不支持" in messages["notes.exe"] and "同名" in messages[existing.name]
    assert existing.read_bytes() != b"different text with the same name"  # nothing overwritten
    assert (corpus / "escape.md").is_file() and not (corpus.parent / "escape.md").exists()
    assert report.added == 2 and report.build_error is None and report.index["notices"] == len(before) + 2
    hit = hash_assistant.search("社区食堂建设补贴多少", k=3)
    assert any("15万元" in h.chunk.text for h in hit)


def test_a_docx_upload_goes_through_the_real_loader(hash_assistant):
    import docx

    document = docx.Document()
    for line in NEW.decode().splitlines():
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    report = add_notices(hash_assistant, [("食堂.docx", buf.getvalue())])
    assert [f.status for f in report.files] == ["added"], report.files[0].message
    assert report.files[0].title and "社区食堂" in report.files[0].title


def test_names_tokens_and_reasons():
    assert safe_name("../../etc/passwd") is None
    assert safe_name("..\\..\\a.TXT") == "a.txt"
    assert safe_name("通知 (1).docx") == "通知_(1).docx"
    assert safe_name(".txt") is None and safe_name("x.sh") is None
    assert token_ok("s3cret", "s3cret") and not token_ok("s3cre", "s3cret")
    assert not token_ok("", "") and not token_ok(None, "x") and not token_ok("x", None)
    assert reason_zh("too large (3.0 MB > limit 1.0 MB)") == "文件太大（3.0 MB > limit 1.0 MB）"
    assert reason_zh("something new") == "something new"
