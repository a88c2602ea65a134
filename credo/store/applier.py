"""The journal applier: the server's thread that gives the database what the decision journal
(:mod:`credo.store.journal`) holds, in bulk and off the requests' path (docs/decisions/0612).

Lock order, for every holder that may write: ``Store.applying``, then the service's lock, then
the journal's. This thread takes only the first and the last (inside
:meth:`Store.apply_journal`), never the service's: the decision writer, which holds the
service's lock to journal a batch, never waits for an apply's inserts.
"""

from __future__ import annotations

import logging
import threading

from credo.store.db import Store

__all__ = ["JournalApplier"]

log = logging.getLogger("credo.store")


class JournalApplier:
    """The applier thread: moves the decision journal into the database with a cursor of its
    own, so decisions keep being journaled (and answered) while DuckDB inserts the last ones.

    It applies every ``interval`` seconds, and at once when ``nudge`` finds ``every`` entries
    waiting; ``Service.run`` applies what is left before it uses the store
    (docs/decisions/0612).
    """

    def __init__(self, store: Store, every: int, interval: float = 0.1) -> None:
        self._store = store
        self._every = every
        self._interval = interval
        self._wake = threading.Event()
        self._stop = False
        self._cursor = store.con.cursor()
        self._generation = store.generation
        self._thread = threading.Thread(target=self._run, name="credo-journal", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Called after each batch: wake the thread once enough is waiting."""
        if self._store.journaled >= self._every:
            self._wake.set()

    def close(self) -> None:
        """Wake the thread for a last apply and stop it. A batch journaled while its apply
        ran may stay behind: ``Store.close`` applies it (``Service.close`` calls it next)."""
        if not self._stop:
            self._stop = True
            self._wake.set()
            self._thread.join()
            self._cursor.close()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._store.journaled:
                try:
                    with self._store.applying:  # a rewrite replaces the connection under it
                        if self._generation != self._store.generation:
                            self._cursor.close()
                            self._cursor = self._store.con.cursor()
                            self._generation = self._store.generation
                        self._store.apply_journal(self._cursor)
                except Exception:  # still in the journal: the next round or request retries
                    log.exception("moving the decision journal into the database failed")
