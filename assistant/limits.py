"""Fair use for a public service: questions per client per minute, and a bounded wait for a free slot."""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

BUSY_ZH = "现在提问的人比较多，请稍等片刻再问。"


def client_key(request) -> str:
    """The address a request came from (a Starlette or Gradio request), for per-client limits."""
    client = getattr(request, "client", None)
    return (client.host if client else None) or "local"


class RateLimiter:
    """At most ``per_minute`` events per key in any 60-second window (0 = no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        self.per_minute = per_minute
        self._clock = clock
        self._max_keys = max_keys
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock()
        with self._lock:
            if len(self._seen) >= self._max_keys:  # forget idle clients rather than grow without bound
                for k in [k for k, q in self._seen.items() if not q or now - q[-1] >= 60]:
                    del self._seen[k]
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True

    def retry_after(self, key: str) -> int:
        with self._lock:
            times = self._seen.get(key)
            if not times:
                return 0
            return max(1, int(60 - (self._clock() - times[0])) + 1)


class Busy(Exception):
    """Every slot is taken and the waiting line is full."""


class Admission:
    """``max_active`` answers at once; up to ``max_waiting`` more wait (at most ``wait_s``); the rest are told to come back."""

    def __init__(self, max_active: int, max_waiting: int, wait_s: float = 30.0):
        self._slots = threading.Semaphore(max_active)
        self._max_waiting = max_waiting
        self._wait_s = wait_s
        self._waiting = 0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self._max_waiting:
                    raise Busy()
                self._waiting += 1
            try:
                got = self._slots.acquire(timeout=self._wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise Busy()
        try:
            yield
        finally:
            self._slots.release()


class Gate:
    """One process-wide pair of limits, shared by the pages and the API."""

    def __init__(self, per_minute: int, max_active: int, max_waiting: int):
        self.rate = RateLimiter(per_minute)
        self.admission = Admission(max_active, max_waiting)

    @classmethod
    def from_settings(cls, settings) -> "Gate":
        return cls(settings.rate_limit, settings.max_active, settings.max_waiting)
