"""Loaders on real files: encodings, HTML, DOCX, PDF, refusals, directory expansion, and fuzzing."""

from __future__ import annotations

import codecs
import io
import random
import re
import time
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from assistant import loaders
from assistant.errors import LoadError
from assistant.loaders import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_SUFFIXES,
    decode_bytes,
    iter_notice_files,
    load_text,
)
# PDF and DOCX are parsed in a child process; none may outlive a load_text call (autouse fixture).
from tests.test_sandbox import child_pids, no_leftover_children  # noqa: F401

NOTICE = Path(__file__).resolve().parents[1] / "corpus" / "000_c24e77d8f08ba7b8.txt"
TEXT = NOTICE.read_text(encoding="utf-8")
BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def load_error(path: Path, **kwargs: float) -> LoadError:
    """Load ``path`` expecting a one-line LoadError that names the file."""
    with pytest.raises(LoadError) as info:
        load_text(path, **kwargs)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message and "\r" not in message
    assert "Traceback" not in message
    return info.value


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a Helvetica text object."""
    return pdf_page(f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("ascii"))


def pdf_page(content: bytes, flate: bool = False) -> bytes:
    """A one-page PDF with this content stream, offsets computed so the xref table is exact."""
    stream = b"<< /Length %d >>" % len(content)
    if flate:
        content = zlib.compress(content, 9)
        stream = b"<< /Length %d /Filter /FlateDecode >>" % len(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream + b"\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- plain text and encodings ---------------------------------------------------------------------


def encodings_of(text: str) -> dict[str, bytes]:
    return {
        "utf-8": text.encode("utf-8"),
        "utf-8-bom": text.encode("utf-8-sig"),
        "gb18030": text.encode("gb18030"),
        "utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        "utf-32-bom": text.encode("utf-32"),
    }


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("encoding", list(encodings_of("x")))
def test_real_notice_decodes_identically_in_every_encoding(tmp_path: Path, encoding: str, newline: str) -> None:
    data = encodings_of(TEXT.replace("\n", newline))[encoding]
    path = write(tmp_path / "notice.txt", data)
    assert load_text(path) == TEXT
    assert decode_bytes(data) == TEXT


def test_gbk_that_is_not_utf8(tmp_path: Path) -> None:
    text = "关于进一步优化营商环境的通知\n各区人民政府、市政府各部门：\n"
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_bytes(data) == text
    assert load_text(write(tmp_path / "gbk.md", data)) == text


def test_suffix_is_case_insensitive_and_bom_char_dropped(tmp_path: Path) -> None:
    assert load_text(write(tmp_path / "NOTICE.TXT", "\ufeff通知\r\n正文".encode("gb18030"))) == "通知\n正文"


def test_neither_utf8_nor_gb18030_falls_back_to_detection() -> None:
    text = "Le préfet a signé l'arrêté relatif à la sécurité des élèves et à la qualité de l'eau.\n" * 5
    decoded = decode_bytes(text.encode("cp1252"))  # detection may pick a sibling code page: close, not exact
    assert decoded.startswith("Le préfet a signé l'arr") and "sécurité" in decoded


def test_unknown_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    import charset_normalizer

    def no_guess(data: bytes) -> object:
        raise RuntimeError("detector failed")

    monkeypatch.setattr(charset_normalizer, "from_bytes", no_guess)
    with pytest.raises(LoadError, match=r"^x\.txt: unreadable: unknown text encoding$"):
        decode_bytes(b"\xff\x80 neither UTF-8 nor GB18030", "x.txt")


@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b" \n\t \r\n\xe3\x80\x80", "empty file"),
        ("blank.html", b"<html><head><script>x()</script></head><body> </body></html>", "empty file"),
        ("random.txt", random.Random(7).randbytes(4096) + b"\x00", "binary file, not text"),
        ("controls.txt", b"\x01\x02\x03\x1b ok" * 50, "binary file, not text"),
        ("odd.txt", codecs.BOM_UTF16_LE + "半个".encode("utf-16-le")[:-1], "invalid text after the byte-order mark"),
        ("notice.xyz", b"hello", "unsupported file type '.xyz' (supported: .txt, .md"),
        ("README", b"hello", "unsupported file type"),
    ],
)
def test_refusals(tmp_path: Path, filename: str, data: bytes, reason: str) -> None:
    assert reason in load_error(write(tmp_path / filename, data)).reason


def test_too_large(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "big.txt", b"a" * 5000), max_bytes=1000)
    assert error.reason == "too large (4.9 KB > limit 1000 bytes)"
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(DEFAULT_MAX_BYTES + 1)
    assert load_error(big).reason == "too large (20 MB > limit 20 MB)"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file or directory" in load_error(tmp_path / "missing.txt").reason
    assert "is a directory" in load_error(tmp_path).reason


def test_path_with_newline_stays_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_text(tmp_path / "bad\nname.txt")
    assert "\n" not in str(info.value) and "bad\\nname.txt" in str(info.value)


# -- HTML -----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>网站标题</title>
<style>body { color: red; } .hidden-style {}</style>
<script>var secret = "脚本内容";</script></head>
<body>
  <div class="nav">首页 &gt; 通知公告</div>
  <h1>关于开展安全生产大检查的通知</h1>
  <p>各区、县人民政府：</p>
  <p>
     为切实做好   安全生产工作，
     现将有关事项通知如下。
  </p>
  <p>一、检查范围<br>二、检查时间<br><br>三、工作要求</p>
  <noscript>请启用脚本</noscript>
  <template><p>模板内容</p></template>
  <table><tr><th>单位</th><th>人数</th></tr><tr><td>市应急局</td><td>12</td></tr></table>
  <p>&nbsp;&nbsp;特此通知。<!-- 注释 --></p>
  <script>document.write("另一个脚本")</script>
</body></html>
"""


def test_html_visible_text_only(tmp_path: Path) -> None:
    text = load_text(write(tmp_path / "page.html", PAGE.encode("utf-8")))
    for hidden in ("secret", "脚本内容", "color", "另一个脚本", "请启用脚本", "模板内容", "注释", "网站标题"):
        assert hidden not in text
    assert text.split("\n") == [
        "首页 > 通知公告",
        "关于开展安全生产大检查的通知",
        "各区、县人民政府：",
        "为切实做好 安全生产工作， 现将有关事项通知如下。",
        "一、检查范围",
        "二、检查时间",
        "",
        "三、工作要求",
        "单位\t人数",
        "市应急局\t12",
        "特此通知。",
    ]


def test_html_gbk_and_title_fallback(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gbk"><title>  通知  标题 </title></head><body><div>正文内容</div></body></html>'
    assert load_text(write(tmp_path / "gbk.htm", page.encode("gbk"))) == "正文内容"
    title_only = "<html><head><title>只有 标题</title></head><body><script>x()</script></body></html>"
    assert load_text(write(tmp_path / "title.HTML", title_only.encode("utf-8"))) == "只有 标题"


def test_html_deep_nesting_is_not_a_crash(tmp_path: Path) -> None:
    page = "<div>" * 20000 + "深层内容" + "</div>" * 20000
    path = write(tmp_path / "deep.html", page.encode("utf-8"))
    try:
        assert "深层内容" in load_text(path)
    except LoadError as error:
        assert "\n" not in str(error)


# -- DOCX -----------------------------------------------------------------------------------------


def test_docx_paragraphs_and_table_in_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("关于做好防汛工作的通知")
    document.add_paragraph("各街道：")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("单位", "责任人", "电话"), ("水务局", "张三", "12345")]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.add_paragraph("特此通知。")
    path = tmp_path / "notice.docx"
    document.save(str(path))
    assert load_text(path) == "关于做好防汛工作的通知\n各街道：\n单位\t责任人\t电话\n水务局\t张三\t12345\n特此通知。"


def test_docx_merged_cells_appear_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "合并"
    table.cell(0, 2).text = "右"
    path = tmp_path / "merged.docx"
    document.save(str(path))
    assert load_text(path) == "合并\t右"


def test_docx_corrupt(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "bad.docx", random.Random(1).randbytes(2048)))
    assert error.reason.startswith("not a valid .docx (")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    error = load_error(write(tmp_path / "zip.docx", buffer.getvalue()))
    assert error.reason.startswith("not a valid .docx (")


@pytest.mark.parametrize("max_bytes", [1024 * 1024, DEFAULT_MAX_BYTES])
def test_docx_zip_bomb_refused(tmp_path: Path, max_bytes: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    path = write(tmp_path / "bomb.docx", buffer.getvalue())
    assert path.stat().st_size < 1024 * 1024
    assert load_error(path, max_bytes=max_bytes).reason == "refused: suspicious .docx (zip bomb?)"


# -- PDF ------------------------------------------------------------------------------------------


def test_pdf_with_text_layer(tmp_path: Path) -> None:
    data = minimal_pdf("Hello notice")
    assert PdfReader(io.BytesIO(data)).pages[0].extract_text() == "Hello notice"  # the fixture is valid
    assert load_text(write(tmp_path / "notice.PDF", data)) == "Hello notice"


def test_pdf_blank_has_no_text_layer(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert load_error(write(tmp_path / "scan.pdf", buffer.getvalue())).reason == "no text layer (scanned?)"


def test_pdf_garbage(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "bad.pdf", random.Random(2).randbytes(3000)))
    assert error.reason.startswith("not a valid PDF (")
    truncated = minimal_pdf("Hello notice")[:60]
    assert load_error(write(tmp_path / "cut.pdf", truncated)).reason.startswith("not a valid PDF (")


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf("Hello notice"))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_encrypted(tmp_path: Path) -> None:
    assert load_error(write(tmp_path / "locked.pdf", encrypted_pdf("secret"))).reason == "encrypted PDF"
    # Owner password only (common for official PDFs): opens with the empty user password.
    assert load_text(write(tmp_path / "restricted.pdf", encrypted_pdf(""))) == "Hello notice"


# -- isolation: PDF and DOCX are parsed in a child process with time and memory limits -------------


@pytest.fixture(scope="module")
def token_flood() -> bytes:
    """A 94 KB PDF whose content stream inflates to 64 MB of text operators: seconds of CPU, GBs of objects."""
    return pdf_page(b"BT /F1 1 Tf " + b"(ab) Tj " * 8_000_000 + b"ET", flate=True)


def small_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("关于做好防汛工作的通知")
    document.save(str(path))
    return path


def test_normal_files_parse_within_tight_limits(tmp_path: Path) -> None:
    pdf = write(tmp_path / "notice.pdf", minimal_pdf("Hello notice"))
    assert load_text(pdf, timeout=10, memory_mb=256) == "Hello notice"
    assert load_text(small_docx(tmp_path / "notice.docx"), timeout=10, memory_mb=256) == "关于做好防汛工作的通知"


def test_slow_pdf_is_killed_at_the_timeout(tmp_path: Path, token_flood: bytes) -> None:
    path = write(tmp_path / "flood.pdf", token_flood)
    start = time.monotonic()
    assert load_error(path, timeout=1).reason == "took longer than 1 s to parse (gave up)"
    assert time.monotonic() - start < 5
    assert load_text(write(tmp_path / "next.pdf", minimal_pdf("Still serving"))) == "Still serving"


def test_memory_hungry_pdf_hits_the_module_default_limit(
    tmp_path: Path, token_flood: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaders, "PARSE_MEMORY_MB", 150)
    path = write(tmp_path / "flood.pdf", token_flood)
    assert load_error(path).reason == "parser ran out of memory (limit 150 MB)"
    assert load_text(write(tmp_path / "next.pdf", minimal_pdf("Enough for a normal file"))) == "Enough for a normal file"


def test_parse_limits_do_not_apply_to_plain_formats(tmp_path: Path) -> None:
    """Text, Markdown and HTML are parsed in-process: limits no child could meet do not matter."""
    for name, data in (("a.txt", b"plain"), ("a.md", b"# plain"), ("a.html", b"<p>plain</p>")):
        assert "plain" in load_text(write(tmp_path / name, data), timeout=1e-9, memory_mb=1)
    with pytest.raises(LoadError, match="took longer than 1e-09 s"):
        load_text(write(tmp_path / "a.pdf", minimal_pdf("x")), timeout=1e-9)


# -- directories ----------------------------------------------------------------------------------


def test_iter_notice_files(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.pdf", "sub/deeper/d.HTML", ".hidden/x.txt", ".h.txt", "skip.xyz", "e.docx"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    odd = write(tmp_path / "given.xyz", b"x")
    found = iter_notice_files([tmp_path / "sub", odd, str(tmp_path)])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "sub/c.pdf",
        "sub/deeper/d.HTML",
        "given.xyz",
        "a.md",
        "b.txt",
        "e.docx",
    ]
    assert iter_notice_files(tmp_path / "a.md") == [tmp_path / "a.md"]
    with pytest.raises(LoadError, match="no such file or directory") as info:
        iter_notice_files([tmp_path / "a.md", tmp_path / "nope"])
    assert "nope" in str(info.value)


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".html", ".htm", ".docx", ".pdf")


# -- properties -----------------------------------------------------------------------------------

ANY_BYTES = st.builds(lambda bom, body: bom + body, st.sampled_from((b"", *BOMS)), st.binary(max_size=2000))
CLEAN_TEXT = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from("\t\n\r")), max_size=500
)


@given(ANY_BYTES)
def test_decode_bytes_returns_text_or_load_error(data: bytes) -> None:
    try:
        text = decode_bytes(data, "fuzz.txt")
    except LoadError as error:
        assert str(error).startswith("fuzz.txt: ") and "\n" not in str(error)
    else:
        assert isinstance(text, str) and text.strip()
        assert "\r" not in text and "\x00" not in text and not text.startswith("\ufeff")


@given(CLEAN_TEXT)
def test_decode_bytes_round_trips_utf8_text(text: str) -> None:
    expected = re.sub(r"\r\n?", "\n", text).lstrip("\ufeff")
    if not expected.strip():
        with pytest.raises(LoadError, match="empty file"):
            decode_bytes(text.encode("utf-8"))
    else:
        assert decode_bytes(text.encode("utf-8")) == expected


def _docx_bytes() -> bytes:
    document = docx.Document()
    for line in ("关于测试的通知", "一、总体要求", "（一）按期完成。"):
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


VALID_BINARIES = {".pdf": minimal_pdf("Hello notice " * 20), ".docx": _docx_bytes()}


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(sorted(VALID_BINARIES)), st.floats(0, 1), st.lists(st.integers(0, 10**6), max_size=6))
def test_truncated_or_damaged_pdf_and_docx_give_text_or_a_one_line_reason(tmp_path_factory, suffix, cut, flips):
    data = bytearray(VALID_BINARIES[suffix][: max(1, int(len(VALID_BINARIES[suffix]) * cut))])
    for f in flips:
        data[f % len(data)] ^= 0x5A
    path = write(tmp_path_factory.mktemp("fuzz") / f"damaged{suffix}", bytes(data))
    try:
        text = load_text(path)
    except LoadError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
    else:
        assert isinstance(text, str) and text.strip()
    assert not child_pids()
