"""Turn notice files (.txt, .md, .html, .docx, .pdf) into plain text, or fail with a one-line LoadError."""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from .errors import LoadError
from .sandbox import run_isolated

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# PDF and DOCX are parsed in a child process (see sandbox.py) with these limits; load_text's
# ``timeout`` / ``memory_mb`` override them per call. Measured peak address space of the child:
# ~41 MB for a one-page PDF or DOCX, ~73 MB for a 2000-page PDF (8 s of parsing); 1 GB leaves
# room for any real notice while a bomb cannot take the machine's memory.
PARSE_TIMEOUT = 30.0  # wall-clock seconds, child start included
PARSE_MEMORY_MB = 1024  # RLIMIT_AS of the child
_MAX_TEXT_FACTOR = 4  # extracted text (UTF-8) may be at most this many times max_bytes

# UTF-32 LE comes before UTF-16 LE: its BOM starts with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc minus \t \n \v \f \r
_MAX_CONTROL_SHARE = 0.05  # more control characters than this and the "text" is binary
_MAX_CHAOS = 0.1  # charset_normalizer mess ratio we still call confident
_ZIP_MAX_RATIO = 200
_ZIP_RATIO_MIN_SIZE = 1024 * 1024  # small members may compress well without being a threat
_ZIP_MAX_MEMBERS = 10_000
_HTML_DROP = "script, style, noscript, template, head, iframe, object, embed, svg, canvas"
_HTML_BLOCKS = frozenset(
    "p div li h1 h2 h3 h4 h5 h6 tr section article table ul ol dl dt dd blockquote header footer nav main "
    "aside form hr pre address figure figcaption caption title body html".split()
)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's own whitespace collapses; &nbsp; and U+3000 are kept
_LINE_SPACE = re.compile(r"[ \xa0]+")


def _label(path: str | os.PathLike[str]) -> str:
    """A path for messages, with control characters escaped so the message stays on one line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: repr(m.group())[1:-1], os.fspath(path))


def _short(exc: BaseException, limit: int = 120) -> str:
    """One line describing ``exc``, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _os_reason(exc: OSError) -> str:
    """'unreadable: permission denied' and the like."""
    return f"unreadable: {(exc.strerror or _short(exc)).lower()}"


def _size(n: int) -> str:
    """Human-readable size: '25.3 MB', '512 KB', '90 bytes'."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _finish(text: str, name: str, empty_reason: str = "empty file") -> str:
    """Final normalization shared by every format: LF newlines, no leading BOM, no NUL; never blank."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").replace("\x00", "")
    if not text.strip():
        raise LoadError(name, empty_reason)
    return text


def _decode_plain(data: bytes, name: str) -> str:
    """BOM-less bytes: strict UTF-8, strict GB18030, then a confident charset_normalizer guess."""
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None and best.chaos <= _MAX_CHAOS:
            return str(best)
    except Exception:  # noqa: BLE001 - a failed guess is just "unknown encoding"
        pass
    raise LoadError(name, "unreadable: unknown text encoding")


def decode_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode text bytes (BOM, UTF-8, GB18030, then a guess), normalize newlines, reject binary and blank."""
    if not data:
        raise LoadError(name, "empty file")
    bom_codec = next((codec for bom, codec in _BOMS if data.startswith(bom)), None)
    if b"\x00" in data and bom_codec not in ("utf-16", "utf-32"):
        raise LoadError(name, "binary file, not text")
    if bom_codec is not None:
        try:
            text = data.decode(bom_codec)
        except UnicodeDecodeError:
            raise LoadError(name, "unreadable: invalid text after the byte-order mark") from None
    else:
        text = _decode_plain(data, name)
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise LoadError(name, "binary file, not text")
    return _finish(text, name)


def _tidy_line(line: str) -> str:
    """Collapse spaces inside a line and strip it; table cells stay tab-separated."""
    cells = (_LINE_SPACE.sub(" ", cell).strip() for cell in line.split("\t"))
    return "\t".join(cell for cell in cells if cell)


def _html_text(data: bytes, name: str) -> str:
    """Visible text of an HTML page: one line per block, at most one blank line in a row."""
    from selectolax.lexbor import LexborHTMLParser, LexborNode

    tree = LexborHTMLParser(decode_bytes(data, name))
    title_node = tree.css_first("title")
    title = _tidy_line(_HTML_SPACE.sub(" ", title_node.text())) if title_node is not None else ""
    for node in tree.css(_HTML_DROP):
        node.decompose()
    lines: list[str] = []
    current: list[str] = []

    def end_line(keep_empty: bool = False) -> None:
        line = _tidy_line("".join(current))
        current.clear()
        if line or keep_empty:
            lines.append(line)

    # Iterative walk (deeply nested pages must not hit the recursion limit); None marks a block's end.
    stack: list[LexborNode | None] = [tree.body or tree.root]
    while stack:
        node = stack.pop()
        if node is None:
            end_line()
            continue
        if node.is_text_node:
            current.append(_HTML_SPACE.sub(" ", node.text_content or ""))
        elif node.tag == "br":
            end_line(keep_empty=True)
        elif node.is_element_node:
            if node.tag in _HTML_BLOCKS:
                end_line()
                stack.append(None)
            elif node.tag in ("td", "th"):
                current.append("\t")
            stack.extend(reversed(list(node.iter(include_text=True))))
    end_line()
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text if text.strip() else title


def _check_zip(data: bytes, name: str, max_bytes: int) -> None:
    """Refuse archives that would expand to far more than ``max_bytes`` (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as exc:  # noqa: BLE001 - zipfile raises several types for garbage
        raise LoadError(name, f"not a valid .docx ({_short(exc)})") from None
    total = sum(m.file_size for m in members)
    too_dense = any(
        m.file_size >= _ZIP_RATIO_MIN_SIZE and m.file_size > _ZIP_MAX_RATIO * max(m.compress_size, 1) for m in members
    )
    if len(members) > _ZIP_MAX_MEMBERS or total > 10 * max_bytes or too_dense:
        raise LoadError(name, "refused: suspicious .docx (zip bomb?)")


def _docx_text(data: bytes, name: str, max_bytes: int) -> str:
    """Paragraphs and tables of the document body, in order; table rows as tab-separated cells."""
    import docx
    from docx.table import Table

    _check_zip(data, name, max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for a broken package
        raise LoadError(name, f"not a valid .docx ({_short(exc)})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if not isinstance(block, Table):
            lines.append(block.text)
            continue
        for row in block.rows:
            cells: list[str] = []
            previous = None
            for cell in row.cells:  # a horizontally merged cell is repeated once per grid column
                if cell._tc is not previous:
                    cells.append(" ".join(cell.text.split()))
                previous = cell._tc
            lines.append("\t".join(cells))
    return "\n".join(lines)


def _pdf_text(data: bytes, name: str) -> str:
    """The text layer of every page, pages joined by a newline."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(name, "encrypted PDF")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (LoadError, MemoryError):
        raise
    except DependencyError:
        raise LoadError(name, "encrypted PDF (decrypting it needs the 'cryptography' package)") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for a broken file
        raise LoadError(name, f"not a valid PDF ({_short(exc)})") from None
    return _finish(text, name, "no text layer (scanned?)")


def load_text(
    path: str | os.PathLike[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
) -> str:
    """Read one notice file as plain text; every failure is a one-line LoadError naming the file.

    .docx and .pdf are parsed in a child process limited to ``timeout`` seconds and ``memory_mb``
    of address space (defaults: PARSE_TIMEOUT, PARSE_MEMORY_MB); other formats are parsed here.
    """
    p = Path(path)
    name = _label(p)
    try:
        info = p.stat()
    except OSError as exc:
        raise LoadError(name, _os_reason(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "is a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise LoadError(name, f"unreadable: {kind}")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "(no extension)"
        raise LoadError(name, f"unsupported file type {shown} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if info.st_size == 0:
        raise LoadError(name, "empty file")
    if info.st_size > max_bytes:
        raise LoadError(name, f"too large ({_size(info.st_size)} > limit {_size(max_bytes)})")
    try:
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(name, _os_reason(exc)) from None
    if len(data) > max_bytes:  # the file grew after stat()
        raise LoadError(name, f"too large (> limit {_size(max_bytes)})")
    try:
        if suffix in (".html", ".htm"):
            text = _html_text(data, name)
        elif suffix in (".docx", ".pdf"):
            worker, args = (_docx_text, (name, max_bytes)) if suffix == ".docx" else (_pdf_text, (name,))
            text = run_isolated(
                worker,
                data,
                *args,
                name=name,
                timeout=PARSE_TIMEOUT if timeout is None else timeout,
                memory_mb=PARSE_MEMORY_MB if memory_mb is None else memory_mb,
                max_output=_MAX_TEXT_FACTOR * max_bytes + 64 * 1024,
            )
        else:
            text = decode_bytes(data, name)
        return _finish(text, name)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - never let a library traceback reach the user
        raise LoadError(name, f"unreadable {suffix} file ({type(exc).__name__}: {_short(exc)})") from None


def _walk_error(exc: OSError) -> None:
    """os.walk error hook: an unreadable directory is reported, not silently skipped."""
    raise LoadError(_label(exc.filename or "?"), _os_reason(exc))


def iter_notice_files(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[Path]:
    """Files given as-is, directories expanded (recursive, sorted, supported suffixes, no hidden entries)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise LoadError(_label(p), "no such file or directory")
        if not p.is_dir():
            found.append(p)
            continue
        expanded: list[Path] = []
        for root, dirs, files in os.walk(p, onerror=_walk_error):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            expanded.extend(
                Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in SUPPORTED_SUFFIXES
            )
        found.extend(sorted(expanded))
    return list(dict.fromkeys(found))
