"""Proving from a CSV file's bytes that its fields need no trim and hold no control character.

Staging trims every text value (``reader.trimmed_sql``) and checks the identifier and text
fields for control characters (``validate._bad``): ~0.9 CPU-s per 2M rows of the benchmark's
CSV, for values that almost never have either (docs/decisions/0124). Both are decided here
instead, on the bytes the load already reads once to hash them (``sha256_checked``), and
skipped when the whole file proves them no-ops:

- **no quote character anywhere**: then every field is exactly the bytes between two
  delimiters or line feeds (no quoted delimiter, line break or doubled quote inside a value);
- **no control byte but the line feed** (nor the delimiter, when that is one), and no C1
  control (U+0080-U+009F): then no value holds a character either control class refuses;
- **no space next to a delimiter or a line feed, none first or last in the file, and no other
  Unicode space separator (category Zs, the characters DuckDB's ``trim`` removes) anywhere**:
  then no value starts or ends with one, and ``trim`` would return every value unchanged.

Any byte that breaks a rule sends the file down the full SQL path, which stays as it was; the
proof is only used when DuckDB reads these same bytes as UTF-8 (a transcoded file is another
text). Finding a fault stops the scan, so an unplain file costs less than a plain one.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["PlainScan"]

_SPACE = 0x20
_LINE_FEED = 0x0A
# The characters refused or trimmed that are not ASCII, by their first byte: C1 controls and
# the no-break space (C2 80-A0); U+1680; U+2000-U+200A, U+202F and U+205F; U+3000. Each is
# looked for only where its first byte occurs (a one-byte search runs at memory speed).
_WIDE = (
    (b"\xc2", re.compile(rb"\xc2[\x80-\xa0]")),
    (b"\xe1", re.compile(rb"\xe1\x9a\x80")),
    (b"\xe2", re.compile(rb"\xe2(?:\x80[\x80-\x8a\xaf]|\x81\x9f)")),
    (b"\xe3", re.compile(rb"\xe3\x80\x80")),
)


class PlainScan:
    """Fed a CSV file's bytes in order (``feed``, any chunking), says whether ``plain``: no
    field needs trimming and none holds a control character (the module's three rules)."""

    def __init__(self, delimiter: str, quote: str) -> None:
        d, q = delimiter.encode(), quote.encode()
        # A space or line break as delimiter, a non-ASCII one, or one that is the quote, is
        # not worth proving anything about: such files take the full path.
        usable = len(d) == 1 and len(q) == 1 and d != q and d not in b" \n\r" and q not in b"\n\r"
        self._plain = usable
        self._delimiter = d[0] if usable else -1
        kept = set(range(0x20, 0x7F)) | set(range(0x80, 0x100)) | {_LINE_FEED, self._delimiter}
        kept.discard(q[0] if usable else -1)
        # ``translate`` deletes these; what is left is a fault (a quote or a control byte).
        self._kept = bytes(sorted(b for b in kept if b >= 0))
        self._tail = b""  # the last two bytes fed, for rules that span a chunk's edge
        self._started = False

    @property
    def plain(self) -> bool:
        """Whether every byte fed so far keeps the rules, the file's end included."""
        return self._plain and not self._tail.endswith(b" ")

    def feed(self, chunk: bytes) -> None:
        """Check the next bytes of the file."""
        if not self._plain or not chunk:
            return
        if not self._started:
            self._started = True
            if chunk.startswith(b" "):
                self._plain = False
                return
        # The chunk alone, and the seam with the bytes before it, which holds every sequence
        # the rules look at that crosses into this chunk (at most three bytes). The chunk is
        # not copied: appending it to the tail cost more than the checks.
        seam = self._tail + chunk[:2]
        self._plain = self._plain_bytes(seam) and self._plain_bytes(chunk)
        self._tail = (self._tail + chunk[-2:])[-2:]

    def _plain_bytes(self, buf: bytes) -> bool:
        """The rules on ``buf``; a space at its first or last byte is judged on a seam (or as
        the file's first or last byte), where both its neighbours are known."""
        if buf.translate(None, self._kept):
            return False
        if any(lead in buf and wide.search(buf) for lead, wide in _WIDE):
            return False
        a = np.frombuffer(buf, np.uint8)
        at = np.flatnonzero(a[1:-1] == _SPACE) + 1
        if not at.size:
            return True
        around = np.concatenate((a[at - 1], a[at + 1]))
        return not bool(((around == self._delimiter) | (around == _LINE_FEED)).any())
