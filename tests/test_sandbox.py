"""The parser sandbox: limits enforced in a separate process, one-line errors, no child left behind.

The workers below run in the child, which imports this module: keep its imports light.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import LoadError
from assistant.sandbox import run_isolated

resource = pytest.importorskip("resource")

MB = 1024 * 1024
MARK = "as imported"  # a forked child would see what the parent set at run time instead


def child_pids() -> list[int]:
    """Processes, zombies included, whose parent is this test process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_leftover_children() -> Iterator[None]:
    assert child_pids() == []
    yield
    assert child_pids() == []


def isolated(worker, *args, timeout: float = 30, memory_mb: int = 512, **kwargs) -> str:
    return run_isolated(worker, b"", *args, name="notice.pdf", timeout=timeout, memory_mb=memory_mb, **kwargs)


def failure(worker, *args, **kwargs) -> LoadError:
    """Run ``worker`` expecting a one-line LoadError naming the file."""
    with pytest.raises(LoadError) as info:
        isolated(worker, *args, **kwargs)
    assert info.value.path == "notice.pdf" and str(info.value).startswith("notice.pdf: ")
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)
    return info.value


# -- workers (run in the child) -------------------------------------------------------------------


def echo(data: bytes, prefix: str, number: int) -> str:
    return f"{prefix}{number}:{data.decode('utf-8')}"


def mark(data: bytes) -> str:
    return MARK


def limits(data: bytes) -> str:
    names = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")
    return json.dumps({name: resource.getrlimit(getattr(resource, name)) for name in names})


def sleep_forever(data: bytes, pid_file: str) -> str:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(600)
    return "woke up"


def spin(data: bytes) -> str:
    while True:
        pass


def allocate(data: bytes, megabytes: int) -> str:
    return str(len(bytearray(megabytes * MB)))


def allocate_gradually(data: bytes) -> str:
    chunks = []
    while True:
        chunks.append(b"x" * MB)


def refuse(data: bytes, reason: str) -> str:
    raise LoadError("name-seen-by-the-child", reason)


def fail(data: bytes) -> str:
    raise ValueError("bad\nvalue")


def kill_self(data: bytes, number: int) -> str:
    os.kill(os.getpid(), number)
    time.sleep(10)
    return "not killed"


def exit_with(data: bytes, code: int) -> str:
    os._exit(code)


def chatty(data: bytes) -> str:
    print("noise from a library")
    return "the answer"


def text_of_length(data: bytes, length: int) -> str:
    return "字" * length


def not_text(data: bytes) -> int:
    return 42


# -- results --------------------------------------------------------------------------------------


def test_data_and_args_reach_the_worker_and_text_comes_back() -> None:
    data = ("关于做好防汛工作的通知\n" * 200_000).encode("utf-8")  # 6.6 MB: more than a pipe buffer
    assert run_isolated(echo, data, "页", 7, name="x.pdf", timeout=30, memory_mb=512) == "页7:" + data.decode()


def test_child_is_a_fresh_interpreter_not_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.MARK", "set in the parent")
    assert isolated(mark) == "as imported"


def test_limits_are_set_in_the_child() -> None:
    got = json.loads(isolated(limits, timeout=10, memory_mb=300, max_output=5000))
    assert got["RLIMIT_AS"] == [300 * MB, 300 * MB]
    assert got["RLIMIT_CPU"][0] == 13  # timeout + 1 + 2 s of grace
    assert got["RLIMIT_FSIZE"] == [5001, 5001]
    assert got["RLIMIT_CORE"] == [0, 0]
    assert json.loads(isolated(limits, cpu_seconds=4))["RLIMIT_CPU"] == [4, 5]


def test_library_output_on_stdout_does_not_corrupt_the_answer() -> None:
    assert isolated(chatty) == "the answer"


# -- limits ---------------------------------------------------------------------------------------


def test_timeout_kills_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    start = time.monotonic()
    error = failure(sleep_forever, str(pid_file), timeout=2)
    assert error.reason == "took longer than 2 s to parse (gave up)"
    assert time.monotonic() - start < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)


def test_memory_limit() -> None:
    assert isolated(allocate, 64, memory_mb=256) == str(64 * MB)
    assert failure(allocate, 2048, memory_mb=256).reason == "parser ran out of memory (limit 256 MB)"
    assert failure(allocate_gradually, memory_mb=200).reason == "parser ran out of memory (limit 200 MB)"
    assert isolated(echo, "still", 1) == "still1:"  # and the parent carries on


def test_cpu_limit() -> None:
    start = time.monotonic()
    assert failure(spin, cpu_seconds=1).reason == "parser used more than 1 s of CPU time (gave up)"
    assert time.monotonic() - start < 15


def test_output_size_limit() -> None:
    assert isolated(text_of_length, 300, max_output=1000) == "字" * 300
    assert failure(text_of_length, 400, max_output=1000).reason.startswith("refused: extracted text larger than")


# -- errors ---------------------------------------------------------------------------------------


def test_load_error_reason_comes_back_with_the_parents_name() -> None:
    assert failure(refuse, "encrypted PDF").reason == "encrypted PDF"
    assert failure(refuse, "two\nlines\x1b[31m").reason == "two lines [31m"


def test_other_exceptions_are_one_line() -> None:
    assert failure(fail).reason == "parser failed (ValueError: bad value)"
    assert failure(not_text).reason == "parser failed (TypeError: worker returned int, not str)"


def test_crashes() -> None:
    assert failure(kill_self, int(signal.SIGSEGV)).reason == "parser crashed (signal 11, SIGSEGV)"
    assert failure(kill_self, int(signal.SIGKILL)).reason == "parser crashed (signal 9, SIGKILL)"
    assert failure(exit_with, 3).reason == "parser crashed (exit code 3)"
    assert failure(exit_with, 0).reason == "parser crashed (exited without an answer)"


def test_worker_must_be_importable_by_the_child() -> None:
    def local(data: bytes) -> str:
        return "x"

    with pytest.raises(ValueError, match="module-level"):
        isolated(local)
