"""HTTP requests to URLs that Herald's users give it (status callbacks, inbound-message webhooks,
media fetches): one call, `request()`, that never raises for network trouble.

Why not requests/urllib3/http.client: this runs in Lambda functions whose cold start and 1 MB
bundle matter, and the URL is untrusted, so every step must be ours to bound. Stdlib only; `ssl`
(~50 ms to import, ~50 ms per context: cached) is imported for https only; http.client (~45 ms,
it pulls in the email package) is not used: with `Connection: close` the parser is small.

Rules, and why:
- Where a request may go (http(s) URLs only; SSRF: the host resolved once, private addresses
  refused, the connection pinned to the checked address): see chalicelib.outbound.addresses,
  which makes the connection. A URL's `user:password@` is sent as `Authorization: Basic` on
  the first request (Twilio waits for a 401 challenge first; the receiver sees the same
  credentials), never in the request line, and never signed. The exchange over it (TLS, the
  request, the answer's parser) is chalicelib.outbound.http.
- Redirects are not followed: a 3xx is returned as is. Its Location could point at a private
  address (it would need its own SSRF check) and Twilio-compatible receivers answer 2xx.
- Time: `connect_s` bounds name resolution plus the TCP connection (addresses tried in turn);
  `read_s` each wait for the peer (TLS handshake, send, every read); `total_s` the whole call,
  a hard deadline: every socket timeout is min(phase timeout, time left). Inside a queued
  job, none is longer than what the job has left (chalicelib.runtime.budget): a call ends before
  the invocation that makes it.
- Size: a body over `max_body` bytes (declared or streamed) gives "too large" with status and
  headers kept and body b"" (never a truncated media file taken for a whole one); nothing past
  max_body + 16 KiB is ever buffered. Status line plus headers: at most 64 KiB. With
  `read_body` off the body is not read at all (Answer.body is b""): the connection is closed
  once the head is in.
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

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from chalicelib.outbound.addresses import (
    NotSent,
    connect_any,
    credentials,
    is_public,
    parse,
    resolve,
)
from chalicelib.outbound.http import Failed, Reader, head_and_body, left, read_body, read_head, tls
from chalicelib.runtime import budget

__all__ = ["Answer", "Limits", "Overrides", "fragment_overrides", "request"]

# key -> (lowest, highest), times in ms: Twilio's documented ranges, tt at most Herald's 15 s.
FRAGMENT_BOUNDS = {"rc": (0, 5), "ct": (100, 10_000), "rt": (100, 15_000), "tt": (100, 15_000)}


@dataclass(frozen=True)
class Limits:
    connect_s: float = 2.0
    read_s: float = 10.0
    total_s: float = 15.0
    max_body: int = 64 * 1024
    cafile: str | None = None  # tests only: trust this CA file instead of the system store
    # False: the answer counts by its status alone (a status callback's); its body is never
    # read, so no body is ever too large.
    read_body: bool = True

    def within(self, seconds: float) -> Limits:
        """These limits with no timeout longer than `seconds` (what the job has left)."""
        if seconds >= max(self.connect_s, self.read_s, self.total_s):
            return self
        most = max(0.0, seconds)
        return replace(
            self,
            connect_s=min(self.connect_s, most),
            read_s=min(self.read_s, most),
            total_s=min(self.total_s, most),
        )


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


def twilio_request(
    method: str,
    url: str,
    params: Mapping[str, str],
    auth_token: str | None,
    headers: Mapping[str, str] | None,
    limits: Limits,
    allow_private: bool,
) -> Answer:
    """A request as Twilio makes one to its user's URL (fragment already split off): a GET
    carries `params` in its query string, a POST as its form, and with an AuthToken it is
    signed over the URL as called and the form (X-Twilio-Signature). The URL's credentials go
    in an Authorization header and are not signed, as Twilio does: the receiver's
    RequestValidator rebuilds a URL without them."""
    from urllib.parse import urlencode, urlsplit

    from chalicelib.outbound import signing

    url, authorization = credentials(url)
    if authorization is not None:
        headers = {**(headers or {}), "Authorization": authorization}
    form: Mapping[str, str] | None = params
    if method == "GET":
        url, form = url + ("&" if urlsplit(url).query else "?") + urlencode(params), None
    if auth_token is not None:
        signature = signing.signature(auth_token, url, form)
        headers = {**(headers or {}), signing.SIGNATURE_HEADER: signature}
    return request(
        method, url, form=form, headers=headers, limits=limits, allow_private=allow_private
    )


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
    limits = limits.within(budget.left())
    start = time.monotonic()
    deadline = start + limits.total_s
    url, authorization = credentials(url)
    if authorization is not None:
        headers = {**(headers or {}), "Authorization": authorization}
    head, body = head_and_body(method, form, headers)
    status, got, data, error, address, sock = None, {}, b"", None, None, None
    try:
        scheme, host, port, authority, target = parse(url)
        addresses = resolve(host, port, min(limits.connect_s, deadline - time.monotonic()))
        bad = [sockaddr[0] for _, sockaddr in addresses if not is_public(sockaddr[0])]
        if bad and not allow_private:
            address = bad[0]
            raise NotSent("private address")
        sock, address = connect_any(addresses, min(start + limits.connect_s, deadline))
        if scheme == "https":
            sock = tls(sock, host, limits.cafile, limits.read_s, deadline)
        sock.settimeout(left(deadline, limits.read_s))
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\n{head}".encode() + body)
        reader = Reader(sock, limits.read_s, deadline)
        status, got = read_head(reader)
        if limits.read_body:
            data = read_body(reader, method, status, got, limits.max_body)
    except (NotSent, Failed) as exc:
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
