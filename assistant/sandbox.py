"""Run a parser on untrusted bytes in a separate, resource-limited Python process.

A hostile PDF or DOCX can make a parser loop or eat all memory. The parse runs in a fresh
interpreter (``python -I -c``, started by subprocess: exec right after fork, so it is safe in a
threaded server with torch/FAISS loaded) with RLIMIT_AS, RLIMIT_CPU and RLIMIT_FSIZE set, under a
wall-clock timeout; the parent kills it and reports a one-line LoadError.

Not multiprocessing: its "spawn" and "forkserver" children re-import the parent's ``__main__``
(``app.py`` imports the API, i.e. numpy and FastAPI: 1.2 s more per file, and numpy's thread
buffers under RLIMIT_AS). Nothing is pickled either way: the parent sends a JSON header and the
raw bytes on stdin; the child answers with one status byte and UTF-8 text in a size-capped file.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable

from .errors import LoadError

try:
    import resource
except ImportError:  # Windows: no rlimits, the timeout still applies
    resource = None  # type: ignore[assignment]

_MB = 1024 * 1024
_CPU_GRACE = 2  # CPU seconds allowed beyond the wall-clock timeout (the timeout normally fires first)
# Status byte that starts the child's answer.
_TEXT, _REFUSED, _NO_MEMORY, _FAILED, _TOO_LARGE = b"T", b"E", b"M", b"X", b"L"
_BOOT = (
    "import json, sys; header = json.loads(sys.stdin.buffer.readline()); sys.path[:] = header['sys_path']; "
    "from assistant.sandbox import _child_main; _child_main(header)"
)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _set_limits(memory_bytes: int, cpu_seconds: int, output_bytes: int) -> None:
    if resource is None:
        return
    for which, soft, hard in (
        (resource.RLIMIT_AS, memory_bytes, memory_bytes),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),  # soft: SIGXCPU, hard: SIGKILL
        (resource.RLIMIT_FSIZE, output_bytes, output_bytes),
        (resource.RLIMIT_CORE, 0, 0),  # a crash leaves no core file behind
    ):
        _, current = resource.getrlimit(which)
        if current != resource.RLIM_INFINITY:  # an unprivileged process cannot raise its hard limit
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(which, (soft, hard))


def _child_main(header: dict) -> None:
    """Child side: read the data, limit ourselves, run the worker, write one answer to the real stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's print() goes to stderr, not into the answer
    data = sys.stdin.buffer.read()
    _set_limits(header["memory_bytes"], header["cpu_seconds"], header["max_output"] + 1)
    try:
        module, _, qualname = header["worker"].partition(":")
        worker = importlib.import_module(module)
        for part in qualname.split("."):
            worker = getattr(worker, part)
        text = worker(data, *header["args"])
        if not isinstance(text, str):
            raise TypeError(f"worker returned {type(text).__name__}, not str")
        answer = _TEXT + text.encode("utf-8", "surrogatepass")
        del text
        if len(answer) > header["max_output"]:
            answer = _TOO_LARGE
    except LoadError as error:
        answer = _REFUSED + error.reason.encode("utf-8", "replace")
    except MemoryError:
        answer = _NO_MEMORY
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        answer = _FAILED + f"{type(exc).__name__}: {exc}"[:500].encode("utf-8", "replace")
    try:
        out.write(answer)
    except MemoryError:
        out.write(_NO_MEMORY)
    out.close()


def _mb(n: int) -> str:
    return f"{n / _MB:.1f}".removesuffix(".0") + " MB"


def _signal_reason(number: int, cpu_seconds: int, max_output: int) -> str:
    if number == getattr(signal, "SIGXCPU", None):
        return f"parser used more than {cpu_seconds} s of CPU time (gave up)"
    if number == getattr(signal, "SIGXFSZ", None):
        return f"refused: extracted text larger than {_mb(max_output)}"
    try:
        return f"parser crashed (signal {number}, {signal.Signals(number).name})"
    except ValueError:
        return f"parser crashed (signal {number})"


def run_isolated(
    worker: Callable[..., str],
    data: bytes,
    *args: str | int,
    name: str,
    timeout: float,
    memory_mb: int,
    cpu_seconds: int | None = None,
    max_output: int = 64 * _MB,
) -> str:
    """``worker(data, *args)`` in a child process; its text, or a one-line LoadError naming ``name``.

    ``worker`` must be a module-level function of a module that is cheap to import (the child
    imports it); ``args`` must be JSON values. A LoadError raised by the worker comes back with
    the same reason. ``cpu_seconds`` defaults to the timeout plus a little; ``max_output`` caps
    the UTF-8 size of the returned text.
    """
    if "<" in worker.__qualname__:
        raise ValueError(f"worker must be a module-level function, not {worker.__qualname__}")
    if cpu_seconds is None:
        cpu_seconds = int(timeout) + 1 + _CPU_GRACE
    header = {
        "worker": f"{worker.__module__}:{worker.__qualname__}",
        "args": list(args),
        "memory_bytes": memory_mb * _MB,
        "cpu_seconds": cpu_seconds,
        "max_output": max_output,
        "sys_path": [entry for entry in sys.path if isinstance(entry, str)],
    }
    message = json.dumps(header).encode("ascii") + b"\n" + data
    with tempfile.TemporaryFile(prefix="assistant-parse-") as answer_file:
        try:
            child = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT], stdin=subprocess.PIPE, stdout=answer_file, close_fds=True
            )
        except OSError as exc:
            raise LoadError(name, f"could not start the parser ({_one_line(str(exc))})") from None
        try:
            child.communicate(message, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LoadError(name, f"took longer than {timeout:g} s to parse (gave up)") from None
        finally:
            if child.returncode is None:  # timed out, or interrupted in the parent
                child.kill()
                child.wait()
            with contextlib.suppress(OSError):
                child.stdin.close()  # still open if the timeout struck while sending the data
        size = answer_file.seek(0, os.SEEK_END)
        answer_file.seek(0)
        answer = answer_file.read(max_output + 1) if size <= max_output + 1 else b""
    status, body = answer[:1], answer[1:]
    if status == _TEXT and child.returncode == 0:
        return body.decode("utf-8", "surrogatepass")
    if status == _REFUSED:
        raise LoadError(name, _one_line(body.decode("utf-8", "replace")) or "refused")
    if status == _NO_MEMORY:
        raise LoadError(name, f"parser ran out of memory (limit {memory_mb} MB)")
    if status == _FAILED:
        raise LoadError(name, f"parser failed ({_one_line(body.decode('utf-8', 'replace'), 120)})")
    if status == _TOO_LARGE:
        raise LoadError(name, f"refused: extracted text larger than {_mb(max_output)}")
    if child.returncode < 0:
        raise LoadError(name, _signal_reason(-child.returncode, cpu_seconds, max_output))
    if child.returncode == 0:
        raise LoadError(name, "parser crashed (exited without an answer)")
    raise LoadError(name, f"parser crashed (exit code {child.returncode})")
