"""Domain errors. Each carries a one-line, user-facing message.

They are translated at the edges: the CLI prints the message and exits with
``exit_code``; the HTTP API maps ``http_status``; the chat shows the message.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class LoadError(AssistantError):
    """A file could not be turned into text (empty, binary, too large, no text layer...)."""

    exit_code = 2
    http_status = 422

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NoticeNotFound(AssistantError):
    exit_code = 3
    http_status = 404


class IndexMissing(AssistantError):
    """No usable index on disk."""

    exit_code = 4
    http_status = 503


class IndexMismatch(AssistantError):
    """The index on disk was built with another embedder, dimension or schema, or is corrupted."""

    exit_code = 4
    http_status = 503


class IndexBusy(AssistantError):
    """Another process holds the index write lock."""

    exit_code = 5
    http_status = 409


class BadQuestion(AssistantError):
    """Empty, too long or otherwise malformed question."""

    exit_code = 2
    http_status = 422
