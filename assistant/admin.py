"""Adding notices from the web (UI or API): check each file, store the good ones in the corpus, rebuild.

Only reachable with the admin token. Every file gets its own result; a bad file never
stops the others, and nothing already in the corpus is overwritten.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import threading
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AssistantError
from .indexer import BuildReport, Progress
from .loaders import SUPPORTED_SUFFIXES
from .parse import parse_file

if TYPE_CHECKING:
    from .assistant import Assistant

_UNSAFE = re.compile(r"[^\w.\-\u3000-\u303f\u4e00-\u9fff（）()]+")
_LOCK = threading.Lock()

# The loaders' reasons, for the Chinese UI (anything else is shown as it is).
_REASONS_ZH = [
    (r"^empty file$", "文件是空的"),
    (r"^binary file, not text$", "不是文本文件"),
    (r"^unreadable: unknown text encoding$", "无法识别文字编码"),
    (r"^no text layer \(scanned\?\)$", "PDF 没有文字层（可能是扫描件），请先做文字识别"),
    (r"^encrypted PDF.*$", "PDF 已加密"),
    (r"^not a valid PDF.*$", "不是有效的 PDF 文件"),
    (r"^not a valid \.docx.*$", "不是有效的 Word（.docx）文件"),
    (r"^refused: suspicious \.docx.*$", "可疑的 .docx 文件（解压后过大），已拒绝"),
    (r"^too large \((.*)\)$", r"文件太大（\1）"),
    (r"^unsupported file type.*$", "不支持的文件类型（支持 txt、md、html、docx、pdf）"),
    (r"^took longer than.*$", "解析超时，已放弃"),
    (r"^parser ran out of memory.*$", "解析占用内存过多，已放弃"),
]


def reason_zh(reason: str) -> str:
    for pattern, zh in _REASONS_ZH:
        if re.match(pattern, reason):
            return re.sub(pattern, zh, reason)
    return reason


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no token configured means the feature is off."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class FileResult:
    name: str
    status: str  # added | unchanged | rejected
    message: str  # Chinese, one line
    notice_id: str | None = None
    title: str | None = None


@dataclass
class AddReport:
    files: list[FileResult]
    build: BuildReport | None = None
    build_error: str | None = None
    index: dict[str, Any] = field(default_factory=dict)

    @property
    def added(self) -> int:
        return sum(f.status == "added" for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [asdict(f) for f in self.files], "added": self.added,
                "build_error": self.build_error, "index": self.index}


def safe_name(name: str) -> str | None:
    """A plain file name for the corpus (no directories, no odd characters), or None."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    base = _UNSAFE.sub("_", base).strip("._")[-120:]
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or f".{suffix.lower()}" not in SUPPORTED_SUFFIXES:
        return None
    return f"{stem}.{suffix.lower()}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check(assistant: Assistant, name: str, data: bytes, known: dict[str, str]) -> tuple[FileResult, str | None]:
    corpus = assistant.settings.corpus_dir
    clean = safe_name(name)
    if clean is None:
        return FileResult(name, "rejected", reason_zh("unsupported file type")), None
    if len(data) > assistant.settings.max_file_bytes:
        return FileResult(name, "rejected", f"文件太大（上限 {assistant.settings.max_file_mb:g} MB）"), None
    digest = _sha(data)
    if digest in known:
        return FileResult(name, "unchanged", f"与已有的 {known[digest]} 内容相同，未重复添加"), None
    if (corpus / clean).exists():
        return FileResult(name, "rejected", f"已有同名文件 {clean}（未覆盖），请改名后再上传"), None
    with tempfile.TemporaryDirectory(prefix="na-upload-") as tmp:
        probe = Path(tmp) / clean
        probe.write_bytes(data)
        try:
            notice = parse_file(probe, max_bytes=assistant.settings.max_file_bytes)
        except AssistantError as exc:
            return FileResult(name, "rejected", reason_zh(getattr(exc, "reason", exc.message))), None
    return FileResult(name, "added", "已加入", notice.notice_id, notice.title), clean


def add_notices(assistant: Assistant, uploads: list[tuple[str, bytes]], progress: Progress | None = None) -> AddReport:
    """Check every upload, store the good ones in the corpus (never overwriting), and rebuild the index."""
    corpus = assistant.settings.corpus_dir
    with _LOCK:
        corpus.mkdir(parents=True, exist_ok=True)
        known = {_sha(p.read_bytes()): p.name for p in sorted(corpus.iterdir()) if p.is_file()}
        results: list[FileResult] = []
        for name, data in uploads:
            result, clean = _check(assistant, name, data, known)
            if clean is not None:
                tmp = corpus / f".{clean}.{uuid.uuid4().hex[:8]}.tmp"
                tmp.write_bytes(data)
                os.replace(tmp, corpus / clean)
                known[_sha(data)] = clean
                result.message = f"已加入：{result.title}"
            results.append(result)
        report = AddReport(results)
        if report.added:
            try:
                report.build = assistant.build_index(progress=progress)
            except AssistantError as exc:
                report.build_error = exc.zh if exc.zh != exc.zh_default else exc.message
        status = assistant.index_status()
        report.index = {"version": status.get("version"), **status.get("counts", {})}
        return report
