"""HTTP requests to URLs that Herald's users give it (status callbacks, inbound-message webhooks,
media fetches): one call, `request()`, that never raises for network trouble.

Why not requests/urllib3/http.client: this runs in Lambda functions whose cold start and 1 MB
bundle matter, and the URL is untrusted, so every step must be ours to bound. Stdlib only; `ssl`
(~50 ms to import, ~50 ms per context: cached) is imported for https only; http.client (~45 ms,
it pulls in the email package) is not used: with `Connection: close` the parser is small.

Rules, and why:
- http and https only, with a host. `user:password@` is refused ("bad url"), not stripped: Twilio
  would send it as Basic auth, dropping it silently would become a puzzling 401 at the receiver,
  and credentials do not belong in a stored callback URL. The fragment is never sent. Control
  characters and spaces are refused; non-ASCII in path or query goes out percent-encoded UTF-8
  (users should configure ASCII URLs: the signature covers the URL as written, see signing.py).
- SSRF: the host is resolved once (getaddrinfo, in a thread so that a hanging resolver cannot
  outlive the deadline) and, unless allow_private, refused when ANY address is not globally
  routable unicast (`is_public`): loopback, private (RFC 1918, fc00::/7), link-local (the EC2 and
  Lambda metadata service is 169.254.169.254; the Lambda runtime API is on 127.0.0.1:9001),
  100.64/10, multicast, unspecified, reserved, documentation, benchmarking, and IPv6 forms that
  embed an IPv4 address (::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4: judged by that address;
  Teredo and site-local: refused). Odd IP literals (`http://2130706433/`, `0177.0.0.1`, `0x7f.1`)
  are decoded by getaddrinfo and judged by the result. We then connect to the checked address,
  never to the name again (DNS rebinding could swap in 127.0.0.1), send the URL's authority as
  written as Host, and for https use SNI and verify the certificate against the host name
  (ssl.create_default_context(), server_hostname=host).
- Redirects are not followed: a 3xx is returned as is. Its Location could point at a private
  address (it would need its own SSRF check) and Twilio-compatible receivers answer 2xx.
- Time: `connect_s` bounds name resolution plus the TCP connection (addresses tried in turn);
  `read_s` each wait for the peer (TLS handshake, send, every read); `total_s` the whole call,
  a hard deadline: every socket timeout is min(phase timeout, time left).
- Size: a body over `max_body` bytes (declared or streamed) gives "too large" with status and
  headers kept and body b"" (never a truncated media file taken for a whole one); nothing past
  max_body + 16 KiB is ever buffered. Status line plus headers: at most 64 KiB.
- Request: HTTP/1.1, `User-Agent: TwilioProxy/1.1` (as Twilio), `Accept: */*`, `Connection:
  close`; forms as application/x-www-form-urlencoded with Content-Length. GET parameters belong
  in the URL (and so in its signature).

Answer.error is None for any complete HTTP response, whatever its status; else one of "bad url",
"dns", "private address", "refused", "unreachable", "connect timeout" (these six: nothing was
sent, safe to retry), "tls", "timeout", "reset", "no response" (closed before a status line),
"bad response", "incomplete", "too large", "network". Answer.address: the IP connected to, or the
refused one for "private address".
"""

from __future__ import annotations

import socket
import string
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode, urlsplit

__all__ = ["Answer", "Limits", "Overrides", "fragment_overrides", "is_public", "request"]

USER_AGENT = "TwilioProxy/1.1"
MAX_HEAD_BYTES = 64 * 1024
# key -> (lowest, highest), times in ms: Twilio's documented ranges, tt at most Herald's 15 s.
FRAGMENT_BOUNDS = {"rc": (0, 5), "ct": (100, 10_000), "rt": (100, 15_000), "tt": (100, 15_000)}


@dataclass(frozen=True)
class Limits:
    connect_s: float = 2.0
    read_s: float = 10.0
    total_s: float = 15.0
    max_body: int = 64 * 1024
    cafile: str | None = None  # tests only: trust this CA file instead of the system store


@dataclass(frozen=True)
class Overrides:
    retries: int | None = None
    connect_ms: int | None = None
    read_ms: int | None = None
    total_ms: int | None = None

    def apply(self, limits: Limits) -> Limits:
        """`limits` with the timeouts this fragment set (retries are the caller's business)."""
        ms = {"connect_s": self.connect_ms, "read_s": self.read_ms, "total_s": self.total_ms}
        return replace(limits, **{k: v / 1000 for k, v in ms.items() if v is not None})


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str]  # lower-case names; a repeated header's values joined with ", "
    body: bytes
    latency_ms: int
    error: str | None
    address: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def fragment_overrides(url: str) -> tuple[str, Overrides]:
    """Split Twilio's connection overrides (`#rc=2&ct=1000&rt=5000&tt=10000`) off a URL.

    Values must be ASCII decimal digits and are clamped to FRAGMENT_BOUNDS: rc (retries) 0..5,
    ct (connect) 100..10000 ms, rt (read) and tt (total) 100..15000 ms. Unknown keys (rp, e,
    sni, ...) and malformed values are ignored; of a repeated key the last valid value wins.
    """
    base, _, fragment = url.partition("#")
    found: dict[str, int] = {}
    for item in fragment.split("&"):
        key, _, value = item.partition("=")
        if key in FRAGMENT_BOUNDS and value.isascii() and value.isdigit() and len(value) <= 9:
            low, high = FRAGMENT_BOUNDS[key]
            found[key] = min(max(int(value), low), high)
    return base, Overrides(found.get("rc"), found.get("ct"), found.get("rt"), found.get("tt"))


def shown(url: str) -> str:
    """A URL as Herald records it: scheme, host, port and path; never its query string, user
    info or fragment, where a receiver keeps its own secrets."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def is_public(address: str) -> bool:
    """Whether an IP address (as getaddrinfo gives it) is globally routable unicast."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return is_public(str(ip.ipv4_mapped))
        if int(ip) >> 32 == 0x64FF9B << 64:  # NAT64 64:ff9b::/96: judge the embedded IPv4
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.teredo or ip.is_site_local or (ip.sixtofour and not is_public(str(ip.sixtofour))):
            return False
    flags = (ip.is_private, ip.is_loopback, ip.is_link_local, ip.is_multicast, ip.is_reserved)
    return ip.is_global and not (any(flags) or ip.is_unspecified)


class _Fail(Exception):
    """The call ended early; args[0] is the Answer.error."""


def request(
    method: str,
    url: str,
    *,
    form: Mapping[str, str | Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    limits: Limits = Limits(),  # frozen: sharing the default is safe
    allow_private: bool = False,
) -> Answer:
    """Send one request to an untrusted URL; see the module docstring for the rules.

    Raises ValueError only for the caller's own mistakes (a bad method or header, a form on a
    GET); whatever the URL or the network does ends up in Answer.error.
    """
    start = time.monotonic()
    deadline = start + limits.total_s
    head, body = _head_and_body(method, form, headers)
    status, got, data, error, address, sock = None, {}, b"", None, None, None
    try:
        scheme, host, port, authority, target = _parse(url)
        addresses = _resolve(host, port, min(limits.connect_s, deadline - time.monotonic()))
        bad = [sockaddr[0] for _, sockaddr in addresses if not is_public(sockaddr[0])]
        if bad and not allow_private:
            address = bad[0]
            raise _Fail("private address")
        sock, address = _connect_any(addresses, min(start + limits.connect_s, deadline))
        if scheme == "https":
            sock = _tls(sock, host, limits, deadline)
        sock.settimeout(_left(deadline, limits.read_s))
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\n{head}".encode() + body)
        reader = _Reader(sock, limits.read_s, deadline)
        status, got = _read_head(reader)
        data = _read_body(reader, method, status, got, limits.max_body)
    except _Fail as exc:
        error = exc.args[0]
    except TimeoutError:
        error = "timeout"
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        error = "reset"
    except OSError as exc:
        ssl = sys.modules.get("ssl")
        error = "tls" if ssl and isinstance(exc, ssl.SSLError) else "network"
    finally:
        if sock is not None:
            sock.close()
    latency_ms = int((time.monotonic() - start) * 1000)
    return Answer(status, got, b"" if error else data, latency_ms, error, address)


def _left(deadline: float, most: float) -> float:
    """A socket timeout: `most`, or less as the deadline nears; TimeoutError once it passed."""
    if (left := deadline - time.monotonic()) <= 0:
        raise TimeoutError("total timeout")
    return min(most, left)


_TOKEN = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_RESERVED = {"host", "content-length", "connection", "transfer-encoding"}


def _head_and_body(method, form, headers) -> tuple[str, bytes]:
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


def _parse(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, Host header, request target) of an http(s) URL, or _Fail."""
    url = url.partition("#")[0]
    try:
        if any(c <= " " or c == "\x7f" for c in url):
            raise ValueError("control character or space")
        parts = urlsplit(url)
        scheme, netloc, host = parts.scheme.lower(), parts.netloc, parts.hostname
        if scheme not in ("http", "https") or not host or "@" in netloc or parts.port == 0:
            raise ValueError("not an http(s) URL with a host and no credentials")
        if not netloc.isascii():  # an IDN: Host needs its ASCII (punycode) form
            netloc = host.encode("idna").decode() + (f":{parts.port}" if parts.port else "")
        target = (parts.path or "/") + (f"?{parts.query}" if "?" in url else "")
        port = parts.port or (443 if scheme == "https" else 80)
        return scheme, host, port, netloc, quote(target, safe=string.punctuation)
    except ValueError as exc:  # UnicodeError (a bad IDN) is a ValueError too
        raise _Fail("bad url") from exc


def _resolve(host: str, port: int, timeout: float) -> list[tuple[int, tuple]]:
    """[(family, sockaddr)] from getaddrinfo, run in a thread that cannot hold us up."""
    box: list = []

    def run():
        try:
            box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # gaierror, UnicodeError, ...
            box.append(exc)

    worker = threading.Thread(target=run, name="outbound-dns", daemon=True)
    worker.start()
    worker.join(max(timeout, 0))
    families = (socket.AF_INET, socket.AF_INET6)
    found = [] if not box or isinstance(box[0], Exception) else box[0]
    if not (addresses := list(dict.fromkeys((i[0], i[4]) for i in found if i[0] in families))):
        raise _Fail("dns")
    return addresses


def _connect(family: int, sockaddr: tuple, timeout: float) -> socket.socket:
    """A TCP connection to exactly this address (tests replace this to fake the network)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_any(addresses: list, connect_deadline: float) -> tuple[socket.socket, str]:
    reason = "connect timeout"
    for family, sockaddr in addresses:
        if (left := connect_deadline - time.monotonic()) <= 0:
            break
        try:
            return _connect(family, sockaddr, left), sockaddr[0]
        except TimeoutError:
            reason = "connect timeout"
        except OSError as exc:
            reason = "refused" if isinstance(exc, ConnectionRefusedError) else "unreachable"
    raise _Fail(reason)


_contexts: dict = {}


def _tls(sock: socket.socket, host: str, limits: Limits, deadline: float):
    import ssl

    if (context := _contexts.get(limits.cafile)) is None:  # ~50 ms: once per container
        context = _contexts[limits.cafile] = ssl.create_default_context(cafile=limits.cafile)
    sock.settimeout(_left(deadline, limits.read_s))
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as exc:  # certificate verification failures included
        raise _Fail("tls") from exc


class _Reader:
    """Buffered reads where every wait is bounded by read_s and by the deadline."""

    def __init__(self, sock, read_s: float, deadline: float):
        self.sock, self.read_s, self.deadline = sock, read_s, deadline
        self.buf = bytearray()

    def fill(self) -> bool:
        self.sock.settimeout(_left(self.deadline, self.read_s))
        data = self.sock.recv(16384)
        self.buf += data
        return bool(data)

    def line(self, limit: int, at_eof: str = "incomplete") -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > limit:
                raise _Fail("bad response")
            if not self.fill():
                raise _Fail(at_eof)
        line = bytes(self.buf[:end]).rstrip(b"\r")
        del self.buf[: end + 1]
        return line

    def take(self, most: int) -> bytes:
        if not self.buf and not self.fill():
            return b""
        chunk = bytes(self.buf[:most])
        del self.buf[:most]
        return chunk


def _read_head(reader: _Reader) -> tuple[int, dict[str, str]]:
    budget = MAX_HEAD_BYTES
    while True:
        line = reader.line(budget, "no response" if budget == MAX_HEAD_BYTES else "incomplete")
        budget -= len(line) + 2
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if version[:7] != b"HTTP/1." or not code.isdigit() or len(code) != 3 or rest[3:4].strip():
            raise _Fail("bad response")
        headers: dict[str, str] = {}
        while line := reader.line(budget):
            budget -= len(line) + 2
            name, sep, value = line.partition(b":")
            if budget < 0 or not sep or not name or not set(name.decode("latin-1")) <= _TOKEN:
                raise _Fail("bad response")
            key, text = name.decode("ascii").lower(), value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if not 100 <= int(code) < 200 or code == b"101":  # skip interim answers (100 Continue)
            return int(code), headers


def _read_body(reader: _Reader, method: str, status: int, headers: dict, most: int) -> bytes:
    body = bytearray()
    if method == "HEAD" or status in (101, 204, 304):
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while size_text := reader.line(1024).partition(b";")[0].strip():
            if not set(size_text) <= _HEX:
                raise _Fail("bad response")
            if (size := int(size_text, 16)) == 0:
                return bytes(body)  # trailers ignored: the connection closes anyway
            if len(body) + size > most:
                raise _Fail("too large")
            _read_into(reader, body, len(body) + size)
            if reader.line(2) != b"":
                raise _Fail("bad response")
        raise _Fail("bad response")
    length = headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise _Fail("bad response")
    if length is not None and int(length) > most:
        raise _Fail("too large")
    # Without a length the body ends at close: read one byte past the limit to notice excess.
    _read_into(reader, body, most + 1 if length is None else int(length), length is not None)
    if len(body) > most:
        raise _Fail("too large")
    return bytes(body)


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _read_into(reader: _Reader, body: bytearray, size: int, exact: bool = True) -> None:
    """Read until `body` holds `size` bytes; a close before then is "incomplete" if `exact`."""
    while len(body) < size:
        if not (chunk := reader.take(size - len(body))):
            if exact:
                raise _Fail("incomplete")
            return
        body += chunk
