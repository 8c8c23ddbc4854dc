"""Where an outbound request (chalicelib.outbound.client) may go, and the connection to it: the URL
read, the host resolved once, every address vetted, and a TCP connection made to exactly the
address that was checked. Whatever fails here fails before anything was sent.

Rules, and why:
- http and https only, with a host. `user:password@` is taken off the URL and sent as an
  `Authorization: Basic` header, as Twilio does (`credentials`): never in the request line or
  Host, and never signed (chalicelib.outbound.client.twilio_request). The fragment is never sent.
  Control characters and spaces are refused, written or percent-encoded (`%0d%0a`): a URL that
  carries one was refused when it was given (`is_callable`, which create-time checks use, reads
  a URL exactly as the call does, so nothing accepted then fails "bad url" later). Non-ASCII
  in path or query goes out percent-encoded UTF-8 (users should configure ASCII URLs: the
  signature covers the URL as written, see signing.py).
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
  (chalicelib.outbound.http.tls).
"""

from __future__ import annotations

import base64
import re
import socket
import string
import threading
import time
from urllib.parse import quote, unquote_to_bytes, urlsplit


class NotSent(Exception):
    """The call ended before anything was sent (safe to retry); args[0] is the Answer.error:
    "bad url", "dns", "private address", "refused", "unreachable" or "connect timeout"."""


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


# A control character (C0 or DEL), percent-encoded.
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")


def has_control_characters(text: str) -> bool:
    """Whether `text` has a control character or a space, as it is or percent-encoded."""
    return any(c <= " " or c == "\x7f" for c in text) or bool(_ENCODED_CONTROL.search(text))


def is_callable(url: str) -> bool:
    """Whether a URL given to Herald (a callback, a webhook, a media URL; fragment and
    credentials included) is one a call can be made to: http(s) with a host, no control
    character or space anywhere, written or percent-encoded. No network is used."""
    if has_control_characters(url):
        return False
    try:
        parse(credentials(url)[0])
    except NotSent:
        return False
    return True


def quoted(url: str) -> str:
    """A refused URL as an error message repeats it: credentials masked, at most 200
    characters, control characters escaped (the message is JSON, but it may be shown or
    logged as text)."""
    from chalicelib.storage.url_credentials import masked

    url = masked(url)
    text = url[:200].encode("unicode_escape").decode("ascii")
    return text + ("…" if len(url) > 200 else "")


MAX_URL_PARAMETER = 4000  # characters of a resource's webhook or callback URL


def url_parameter(params, name: str) -> str | None:
    """A resource's webhook or callback URL (an IncomingPhoneNumber's, a Messaging Service's):
    None when absent or empty, else one that passes the rule every URL Herald calls passes
    (http(s) with a host, no control character written or percent-encoded; credentials are
    sent as Basic auth), or Twilio's 21609 naming the parameter."""
    from chalicelib.twilio import codes, errors, forms

    value = forms.single(params, name)
    if not value:
        return None
    if len(value) > MAX_URL_PARAMETER or not is_callable(value):
        raise errors.TwilioError(
            codes.INVALID_CALLBACK_URL,
            f"Invalid {name}: {quoted(value)} is not a valid http or https URL.",
        )
    return value


def credentials(url: str) -> tuple[str, str | None]:
    """(the URL without `user:password@`, the `Authorization: Basic` value for them or None).

    The user name and password are percent-decoded (RFC 3986 userinfo), so `p%40ss` is sent
    as `p@ss`. A URL that is not http(s), or whose credentials hold a control character, is
    returned as it is, for parse to refuse."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if "@" not in parts.netloc or parts.scheme.lower() not in ("http", "https"):
        return url, None
    userinfo = parts.netloc.rpartition("@")[0]
    start = url.find("//") + 2  # the netloc follows the scheme's `//`
    if url[start : start + len(userinfo) + 1] != userinfo + "@" or has_control_characters(userinfo):
        return url, None  # left in the URL, where parse refuses it ("bad url")
    # Cut out of the text, not rebuilt: the rest of the URL is signed and sent as written.
    bare = url[:start] + url[start + len(userinfo) + 1 :]
    if not userinfo:
        return bare, None  # `http://@host/`: nothing to send
    user, _, password = userinfo.partition(":")
    pair = unquote_to_bytes(user) + b":" + unquote_to_bytes(password)
    return bare, "Basic " + base64.b64encode(pair).decode("ascii")


def parse(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, Host header, request target) of an http(s) URL without
    credentials (`credentials` takes them off first), or NotSent."""
    url = url.partition("#")[0]
    try:
        if has_control_characters(url):
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
        raise NotSent("bad url") from exc


def resolve(host: str, port: int, timeout: float) -> list[tuple[int, tuple]]:
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
        raise NotSent("dns")
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


def connect_any(addresses: list, connect_deadline: float) -> tuple[socket.socket, str]:
    """A connection to the first of `addresses` (in turn) that answers, and its IP."""
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
    raise NotSent(reason)
