"""Group commit: one writer thread decides queued decisions in batches, one transaction each.

A durable commit costs about a millisecond (statements, the WAL flush) and a decision from the
service's caches a few microseconds, so one commit per decision caps the server near 150
decisions a second. Requests instead queue an ask and await a future; the writer wakes, takes
everything queued (up to ``max_batch``), decides each under the service's lock (so it never
interleaves with ``Service.run``), commits the accepted ones with one audit entry each through
``Store.write_many``, and only then resolves the futures: no request is answered before its
decision is durable, and a failed commit fails every request of its batch
(docs/decisions/0610).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from credo.errors import CredoError, StoreError
from credo.rights.decisions import Decision, DecisionInput

__all__ = ["DecisionWriter"]

log = logging.getLogger("credo.api")

Result = Decision | BaseException
DecideMany = Callable[[list[DecisionInput]], list[Decision | CredoError]]


@dataclass(frozen=True)
class _Item:
    ask: DecisionInput
    future: asyncio.Future[Decision]
    loop: asyncio.AbstractEventLoop


class DecisionWriter:
    """The writer thread. ``decide_many`` runs in it with the store to itself."""

    def __init__(self, decide_many: DecideMany, lock: threading.Lock, max_batch: int) -> None:
        self._decide_many = decide_many
        self._lock = lock
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="credo-decisions", daemon=True)
        self._thread.start()

    def submit(self, ask: DecisionInput) -> asyncio.Future[Decision]:
        """Queue an ask from the event loop; the future resolves after its batch commits."""
        if self._closed:
            raise StoreError("the server is stopping", hint="retry once it is back")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision] = loop.create_future()
        self._queue.put(_Item(ask, future, loop))
        return future

    def close(self) -> None:
        """Decide and commit what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            results: list[Result]
            try:
                with self._lock:
                    results = list(self._decide_many([i.ask for i in batch]))
            except Exception as exc:  # the commit failed: nothing of the batch is stored
                log.exception("a batch of %d decisions failed", len(batch))
                results = [exc] * len(batch)
            self._resolve(batch, results)

    @staticmethod
    def _resolve(batch: list[_Item], results: list[Result]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Item, Result]]] = {}
        for item, result in zip(batch, results, strict=True):
            by_loop.setdefault(item.loop, []).append((item, result))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_set_all, pairs)
            except RuntimeError:  # the loop closed: nobody is waiting for these answers
                log.warning("%d decisions were committed after their loop closed", len(pairs))


def _set_all(pairs: list[tuple[_Item, Result]]) -> None:
    for item, result in pairs:
        if item.future.cancelled():  # the client left; its decision is stored all the same
            continue
        if isinstance(result, BaseException):
            item.future.set_exception(result)
        else:
            item.future.set_result(result)
