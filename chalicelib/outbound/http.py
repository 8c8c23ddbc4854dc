"""The HTTP/1.1 exchange of an outbound request (chalicelib.outbound.client) over a connection that
chalicelib.outbound.addresses made: TLS, the request's head and body, and the answer read
within its time and size bounds (the rules are in chalicelib.outbound.client's docstring).

Our own small parser, not http.client (why: chalicelib.outbound.client's docstring): with
`Connection: close` the answer ends when the connection does, so little is left to parse.
`ssl` is imported for https only.
"""

from __future__ import annotations

import string
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    import socket

USER_AGENT = "TwilioProxy/1.1"
MAX_HEAD_BYTES = 64 * 1024


class Failed(Exception):
    """The exchange ended early; args[0] is the Answer.error ("tls", "no response", "bad
    response", "incomplete" or "too large")."""


def left(deadline: float, most: float) -> float:
    """A socket timeout: `most`, or less as the deadline nears; TimeoutError once it passed."""
    if (remaining := deadline - time.monotonic()) <= 0:
        raise TimeoutError("total timeout")
    return min(most, remaining)


_TOKEN = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_RESERVED = {"host", "content-length", "connection", "transfer-encoding"}


def head_and_body(method, form, headers) -> tuple[str, bytes]:
    """The request's header lines after Host, and its body; ValueError for caller mistakes."""
    if not method or not set(method) <= set(string.ascii_uppercase):
        raise ValueError(f"bad method {method!r}")
    fields = {"user-agent": ("User-Agent", USER_AGENT), "accept": ("Accept", "*/*")}
    if form is not None and method in ("GET", "HEAD"):
        raise ValueError("a GET's parameters belong in the URL (and so in its signature)")
    if form is not None:
        fields["content-type"] = ("Content-Type", "application/x-www-form-urlencoded")
    for name, value in (headers or {}).items():
        if name.lower() in _RESERVED or not name or not set(name) <= _TOKEN:
            raise ValueError(f"header {name!r} cannot be set")
        if any(c in value for c in "\r\n\0") or not value.isascii():
            raise ValueError(f"header {name!r}: bad value")
        fields[name.lower()] = (name, value)
    body = b"" if form is None else urlencode(form, doseq=True).encode("ascii")
    lines = [f"{name}: {value}\r\n" for name, value in fields.values()]
    if form is not None or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        lines.append(f"Content-Length: {len(body)}\r\n")
    return "".join(lines) + "Connection: close\r\n\r\n", body


_contexts: dict = {}


def tls(sock: socket.socket, host: str, cafile: str | None, read_s: float, deadline: float):
    """The connection wrapped in TLS for `host` (SNI, and its certificate verified against
    the system's CAs, or `cafile`'s: Limits.cafile, for tests)."""
    import ssl

    if (context := _contexts.get(cafile)) is None:  # ~50 ms: once per container
        context = _contexts[cafile] = ssl.create_default_context(cafile=cafile)
    sock.settimeout(left(deadline, read_s))
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as exc:  # certificate verification failures included
        raise Failed("tls") from exc


class Reader:
    """Buffered reads where every wait is bounded by read_s and by the deadline."""

    def __init__(self, sock, read_s: float, deadline: float):
        self.sock, self.read_s, self.deadline = sock, read_s, deadline
        self.buf = bytearray()

    def fill(self) -> bool:
        self.sock.settimeout(left(self.deadline, self.read_s))
        data = self.sock.recv(16384)
        self.buf += data
        return bool(data)

    def line(self, limit: int, at_eof: str = "incomplete") -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > limit:
                raise Failed("bad response")
            if not self.fill():
                raise Failed(at_eof)
        line = bytes(self.buf[:end]).rstrip(b"\r")
        del self.buf[: end + 1]
        return line

    def take(self, most: int) -> bytes:
        if not self.buf and not self.fill():
            return b""
        chunk = bytes(self.buf[:most])
        del self.buf[:most]
        return chunk


def read_head(reader: Reader) -> tuple[int, dict[str, str]]:
    budget = MAX_HEAD_BYTES
    while True:
        line = reader.line(budget, "no response" if budget == MAX_HEAD_BYTES else "incomplete")
        budget -= len(line) + 2
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if version[:7] != b"HTTP/1." or not code.isdigit() or len(code) != 3 or rest[3:4].strip():
            raise Failed("bad response")
        headers: dict[str, str] = {}
        while line := reader.line(budget):
            budget -= len(line) + 2
            name, sep, value = line.partition(b":")
            if budget < 0 or not sep or not name or not set(name.decode("latin-1")) <= _TOKEN:
                raise Failed("bad response")
            key, text = name.decode("ascii").lower(), value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if not 100 <= int(code) < 200 or code == b"101":  # skip interim answers (100 Continue)
            return int(code), headers


def read_body(reader: Reader, method: str, status: int, headers: dict, most: int) -> bytes:
    body = bytearray()
    if method == "HEAD" or status in (101, 204, 304):
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while size_text := reader.line(1024).partition(b";")[0].strip():
            if not set(size_text) <= _HEX:
                raise Failed("bad response")
            if (size := int(size_text, 16)) == 0:
                return bytes(body)  # trailers ignored: the connection closes anyway
            if len(body) + size > most:
                raise Failed("too large")
            _read_into(reader, body, len(body) + size)
            if reader.line(2) != b"":
                raise Failed("bad response")
        raise Failed("bad response")
    length = headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise Failed("bad response")
    # Counted before int(), which refuses more than 4,300 digits with a ValueError.
    if length is not None and (len(length.lstrip("0")) > len(str(most)) or int(length) > most):
        raise Failed("too large")
    # Without a length the body ends at close: read one byte past the limit to notice excess.
    _read_into(reader, body, most + 1 if length is None else int(length), length is not None)
    if len(body) > most:
        raise Failed("too large")
    return bytes(body)


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _read_into(reader: Reader, body: bytearray, size: int, exact: bool = True) -> None:
    """Read until `body` holds `size` bytes; a close before then is "incomplete" if `exact`."""
    while len(body) < size:
        if not (chunk := reader.take(size - len(body))):
            if exact:
                raise Failed("incomplete")
            return
        body += chunk
