"""The server's HTTP protocol: uvicorn's httptools one (what ``credo serve`` runs), with what
it refuses itself, before the app sees a request, answered in the API's error shape rather than
as plain text (issue 17, item 9; docs/decisions/0621): a request line over :data:`MAX_LINE`
bytes (414), headers over :data:`MAX_HEADERS` bytes (431; httptools sets no limit of its own),
a method the parser does not know (405), anything else it cannot parse (400).
"""

from __future__ import annotations

import re
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from credo.api.limits import error_bytes

__all__ = ["MAX_HEADERS", "MAX_LINE", "CredoHttp"]

MAX_LINE = 8 * 1024
MAX_HEADERS = 64 * 1024
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ ")
_KNOWN = {b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE"}
_REASONS = {400: b"Bad Request", 405: b"Method Not Allowed", 414: b"URI Too Long",
            431: b"Request Header Fields Too Large"}  # fmt: skip


class _Refused(Exception):
    """Raised from a parser callback: httptools then stops with a parser error."""


class CredoHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with its own refusals answered in the error shape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: tuple[int, str] | None = None
        self._header_bytes = 0
        self._chunk = b""

    def data_received(self, data: bytes) -> None:
        self._chunk = data  # what a parse error is about: names an unknown method
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_LINE:
            self._refusal = (414, f"request line over {MAX_LINE:,} bytes")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADERS:
            self._refusal = (431, f"request headers over {MAX_HEADERS:,} bytes")
            raise _Refused
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        status, message = self._refusal or (400, "invalid HTTP request")
        method = _TOKEN.match(self._chunk)
        if self._refusal is None and method and method.group()[:-1] not in _KNOWN:
            status, message = 405, "unknown method"
        body = error_bytes(status, message)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\nx-content-type-options: nosniff\r\n",
                 b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)]  # fmt: skip
        self.transport.write(b"".join(head) + body)
        self.transport.close()
