"""Domain errors. Each carries a one-line, user-facing message.

They are translated at the edges: the CLI prints the message and exits with
``exit_code``; the HTTP API maps ``http_status``; the chat shows the message.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code = 1
    http_status = 400
    zh_default = "出了点问题，请稍后再试。"

    def __init__(self, message: str, zh: str | None = None):
        super().__init__(message)
        self.message = message
        self.zh = zh or self.zh_default  # what the Chinese UI shows

    def __str__(self) -> str:
        return self.message


class LoadError(AssistantError):
    """A file could not be turned into text (empty, binary, too large, no text layer...)."""

    exit_code = 2
    http_status = 422

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.zh = f"{path}：{reason}"
        self.path = path
        self.reason = reason


class NoticeNotFound(AssistantError):
    exit_code = 3
    http_status = 404
    zh_default = "没有找到这份通知。"


class IndexMissing(AssistantError):
    """No usable index on disk."""

    exit_code = 4
    http_status = 503
    zh_default = "索引还没有建立，请联系管理员。"


class IndexMismatch(AssistantError):
    """The index on disk was built with another embedder, dimension or schema, or is corrupted."""

    exit_code = 4
    http_status = 503
    zh_default = "索引无法使用（可能已损坏或与模型不符），请联系管理员重建。"


class IndexBusy(AssistantError):
    """Another process holds the index write lock."""

    exit_code = 5
    http_status = 409
    zh_default = "索引正在重建，请稍后再试。"


class BadQuestion(AssistantError):
    """Empty, too long or otherwise malformed question."""

    exit_code = 2
    http_status = 422
    zh_default = "这个问题无法处理，请换个说法。"
