"""chalicelib.outbound (client, addresses, http) against real servers on 127.0.0.1 that these
tests start and stop.

No test touches the internet: an autouse fixture makes getaddrinfo answer only IP literals and
"localhost" (anything else fails like an unknown name unless a test fakes its DNS) and makes
every socket.connect to a non-loopback address fail the test. A "public" server is faked by
monkeypatched getaddrinfo plus outbound.addresses._connect redirected to the local server,
recording the address Herald chose. HTTPS uses a self-signed certificate made here with
`cryptography` and passed in as Limits(cafile=...), the one test-only option.
"""

import base64
import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from chalicelib.outbound import addresses as outbound_addresses
from chalicelib.outbound.addresses import credentials, is_callable, is_public
from chalicelib.outbound.client import (
    Limits,
    Overrides,
    fragment_overrides,
    request,
    twilio_request,
)
from chalicelib.outbound.signing import signature

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700::6810:84e5"
FAST = Limits(connect_s=1, read_s=1, total_s=3)
SLACK = 0.4  # seconds a busy 2-core machine may add to a deadline check


# ---------------------------------------------------------------- the network fence


def _loopback(host):
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = ip.version == 6 and ip.ipv4_mapped
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host != "localhost":
            flags |= socket.AI_NUMERICHOST  # IP literals (odd notations too) only, no DNS query
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def connect(self, address):
        assert _loopback(address[0]), f"a test tried to reach {address}"
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def fake_dns(monkeypatch, answers):
    """getaddrinfo answers from `answers` (name -> list of IPs, or a callable giving one)."""
    calls = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        calls.append(host)
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        ips = answers[host]() if callable(answers[host]) else answers[host]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def land_on(monkeypatch, port):
    """Every connection Herald opens lands on 127.0.0.1:port; returns the addresses it chose."""
    chosen = []
    real = outbound_addresses._connect

    def connect(family, sockaddr, timeout):
        chosen.append((family, sockaddr))
        return real(socket.AF_INET, ("127.0.0.1", port), timeout)

    monkeypatch.setattr(outbound_addresses, "_connect", connect)
    return chosen


@pytest.fixture
def no_connect(monkeypatch):
    def connect(family, sockaddr, timeout):
        raise AssertionError(f"no connection may be attempted, got {sockaddr}")

    monkeypatch.setattr(outbound_addresses, "_connect", connect)


def test_the_fence_holds():
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 80)
    with pytest.raises(AssertionError):
        socket.create_connection((PUBLIC_V4, 80), timeout=0.01)


# ---------------------------------------------------------------- servers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append((self.command, self.path, self.headers, body))
        getattr(self, "route_" + self.path.split("?")[0].strip("/").replace("-", "_"))()

    do_POST = do_HEAD = do_PUT = do_GET

    def answer(self, status, body=b"", **headers):
        self.send_response(status)
        headers.setdefault("Content_Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route_ok(self):
        self.answer(200, b"hello", Content_Type="text/plain", X_Twice="a")

    route_ = route_ok  # "/"

    def route_fail(self):
        self.answer(500, b"oops")

    def route_redirect(self):
        self.answer(302, Location="http://169.254.169.254/latest/meta-data/")

    def route_big(self):
        self.answer(200, b"x" * 100_000)

    def route_exact(self):
        self.answer(200, b"y" * 1024)

    def route_chunked(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(10):
            self.wfile.write(b"64; ext=1\r\n" + b"z" * 100 + b"\r\n")
        self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")

    def route_stream(self):  # no length: the body would end at close, but it never ends
        self.send_response(200)
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(5000):
                self.wfile.write(b"s" * 16384)
        except OSError:
            pass

    def route_trickle(self):  # a byte every 50 ms: no single wait is long, the whole is
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"t")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def route_signed(self):
        url = f"http://{self.headers['Host']}{self.path}"
        params = MultiDict(parse_qsl(self.server.seen[-1][3].decode(), keep_blank_values=True))
        sig = self.headers.get("X-Twilio-Signature", "")
        self.answer(204 if RequestValidator("secret").validate(url, params, sig) else 403)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.seen, httpd.port = [], httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost, hooks.example.com and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "herald outbound test")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.DNSName("hooks.example.com")]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    unused = ["content_commitment", "key_encipherment", "data_encipherment", "key_agreement"]
    usage = dict.fromkeys([*unused, "encipher_only", "decipher_only"], False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(folder / "cert.pem"), str(folder / "key.pem")


@pytest.fixture
def tls_server(server, certificate):
    """The same server, TLS only; .sni lists the server names clients asked for."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.sni = []
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.cafile = certificate[0]
    return server


class RawServer:
    """A TCP listener on 127.0.0.1 whose `script(conn, stop)` plays each connection."""

    def __init__(self, script):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.script, self.stop, self.accepted = script, threading.Event(), 0
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            threading.Thread(target=self.play, args=(conn,), daemon=True).start()

    def play(self, conn):
        with conn, contextlib.suppress(OSError):
            self.script(conn, self.stop)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def raw():
    servers = []

    def start(script):
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for each in servers:
        each.close()


def local(method, server, path, **kwargs):
    """A request to one of this module's servers on 127.0.0.1."""
    kwargs.setdefault("limits", FAST)
    return request(method, f"http://127.0.0.1:{server.port}{path}", allow_private=True, **kwargs)


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def reply(text):
    """A script that reads the request and sends `text` (bytes) as the whole answer."""

    def script(conn, stop):
        read_request(conn)
        conn.sendall(text)

    return script


# ---------------------------------------------------------------- fragment overrides


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/cb?a=1#rc=2&ct=1000&rt=5000&tt=10000", (2, 1000, 5000, 10000)),
        ("https://h/cb", (None, None, None, None)),
        ("https://h/cb#", (None, None, None, None)),
        ("https://h/cb#section-2", (None, None, None, None)),
        ("https://h/cb#rc=9&ct=5&rt=99999&tt=60000", (5, 100, 15000, 15000)),
        ("https://h/cb#rc=0&ct=100&rt=100&tt=100", (0, 100, 100, 100)),
        ("https://h/cb#ct=10001&tt=15000", (None, 10000, None, 15000)),
        ("https://h/cb#rp=all&e=dublin&sni=y&rc=3", (3, None, None, None)),
        ("https://h/cb#rc=-1&ct=abc&rt=&tt=1.5", (None, None, None, None)),
        ("https://h/cb#rc=+1&ct=1e3&rt=0x10&tt= 10", (None, None, None, None)),
        ("https://h/cb#rc=\uff11&ct=9999999999", (None, None, None, None)),  # fullwidth 1
        ("https://h/cb#rc&=3&RC=2&rc=2=3", (None, None, None, None)),
        ("https://h/cb#rc=1&rc=4&rc=x", (4, None, None, None)),  # last valid one wins
    ],
)
def test_fragment_overrides(url, expected):
    base, found = fragment_overrides(url)
    assert base == url.partition("#")[0]
    assert (found.retries, found.connect_ms, found.read_ms, found.total_ms) == expected


def test_overrides_apply_to_limits():
    base = Limits(connect_s=2, read_s=10, total_s=15, max_body=5)
    assert Overrides(retries=3).apply(base) == base
    assert Overrides(1, 1000, 5000, 10000).apply(base) == Limits(1.0, 5.0, 10.0, 5)
    _, found = fragment_overrides("https://h/#tt=999999")
    assert found.apply(base).total_s == 15.0


# ---------------------------------------------------------------- which addresses are public

PUBLIC = ["8.8.8.8", PUBLIC_V4, "1.1.1.1", PUBLIC_V6, "2001:4860:4860::8888"]
PUBLIC += ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]
NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.170.2",
    "169.254.0.1",
    "100.64.0.1",
    "100.127.255.255",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "fec0::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::808:808",
    "2002:7f00:1::1",
    "2002:a00:1::1",
    "2001::1",
    "100::1",
    "not-an-ip",
    "2130706433",
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert is_public(address)


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_not_public_addresses(address):
    assert not is_public(address)


_PRIVATE_V4 = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12")]
_PRIVATE_V4 += [ipaddress.ip_network(n) for n in ("192.168.0.0/16", "169.254.0.0/16")]
_PRIVATE_V4 += [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "0.0.0.0/8", "224.0.0.0/4")]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(network=st.sampled_from(_PRIVATE_V4), offset=st.integers(0, 2**32 - 1))
def test_property_every_form_of_a_private_ipv4_is_refused(network, offset):
    ip = network[offset % network.num_addresses]
    v6 = int(ip)
    forms = [str(ip), str(int(ip)), f"::ffff:{ip}", str(ipaddress.IPv6Address((0xFFFF << 32) | v6))]
    forms.append(str(ipaddress.IPv6Address((0x64FF9B << 96) | v6)))  # NAT64
    forms.append(str(ipaddress.IPv6Address((0x2002 << 112) | (v6 << 80))))  # 6to4
    for form in forms:
        assert not is_public(form), form


# ---------------------------------------------------------------- URLs refused before any work


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///path",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://example.com:abc/",
        "http://[::1/",
        "http://example.com/a b",
        "http://example.com/x\r\nX-Injected: 1",
        "http://example.com/x%0d%0aX-Injected:%201",
        "http://example.com/x?a=%0A",
        "http://example.com/%7f",
        "http://example.com/%00",
        "http://us%0der:pw@example.com/",
        "http://example.com/\tx",
        "http://exa\u0000mple.com/",
        "//example.com/x",
        "example.com/x",
    ],
)
def test_bad_urls_refused_without_dns_or_connection(monkeypatch, no_connect, url):
    calls = fake_dns(monkeypatch, {})
    answer = request("POST", url, form={"A": "1"})
    assert (answer.error, answer.status, answer.body, calls) == ("bad url", None, b"", [])


# ---------------------------------------------------------------- SSRF


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/ok",
        "http://localhost:{port}/ok",
        "http://2130706433:{port}/ok",  # decimal
        "http://0177.0.0.1:{port}/ok",  # octal
        "http://0x7f.1:{port}/ok",  # hex, short form
        "http://0x7f000001:{port}/ok",
        "http://127.1:{port}/ok",
        "http://[::ffff:127.0.0.1]:{port}/ok",  # IPv4-mapped IPv6
        "http://[::ffff:7f00:1]:{port}/ok",
        "http://[64:ff9b::7f00:1]:{port}/ok",  # NAT64 of 127.0.0.1
        "http://[::1]:{port}/ok",
        "http://0.0.0.0:{port}/ok",
        "http://0:{port}/ok",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",  # Lambda runtime API
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[fe80::1]/",
        "https://127.0.0.1:{port}/ok",
    ],
)
def test_private_urls_refused_and_nothing_sent(server, no_connect, url):
    answer = request("POST", url.format(port=server.port), form={"A": "1"})
    assert answer.error == "private address"
    assert answer.status is None and answer.address and not is_public(answer.address)
    assert server.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/ok",
        "http://localhost:{port}/ok",
        "http://2130706433:{port}/ok",
        "http://0x7f.1:{port}/ok",
        "http://0177.0.0.1:{port}/ok",
    ],
)
def test_private_urls_allowed_when_asked(server, url):
    answer = request("GET", url.format(port=server.port), allow_private=True, limits=FAST)
    assert (answer.status, answer.body, answer.error) == (200, b"hello", None)
    assert answer.address == "127.0.0.1"
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    "ips",
    [["10.1.2.3"], ["169.254.169.254"], [PUBLIC_V4, "127.0.0.1"], ["::ffff:192.168.0.1"]],
)
def test_name_resolving_to_a_private_address_refused(monkeypatch, no_connect, ips):
    calls = fake_dns(monkeypatch, {"hooks.example.com": ips})
    answer = request("POST", "https://hooks.example.com/status", form={"A": "1"})
    assert answer.error == "private address"
    assert answer.address == next(ip for ip in ips if not is_public(ip))
    assert calls == ["hooks.example.com"]


def test_public_name_connects_to_the_checked_address(monkeypatch, server):
    calls = fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4]})
    chosen = land_on(monkeypatch, server.port)
    answer = request("GET", "http://hooks.example.com/ok?x=1#rc=2&ct=100", limits=FAST)
    assert (answer.status, answer.body, answer.address) == (200, b"hello", PUBLIC_V4)
    assert chosen == [(socket.AF_INET, (PUBLIC_V4, 80))]
    assert calls == ["hooks.example.com"]
    method, path, headers, _ = server.seen[0]
    assert (method, path, headers["Host"]) == ("GET", "/ok?x=1", "hooks.example.com")


def test_public_ipv6_literal_connects_to_itself(monkeypatch, server):
    chosen = land_on(monkeypatch, server.port)
    answer = request("GET", f"http://[{PUBLIC_V6}]:8080/ok", limits=FAST)
    assert (answer.status, answer.address) == (200, PUBLIC_V6)
    assert chosen == [(socket.AF_INET6, (PUBLIC_V6, 8080, 0, 0))]
    assert server.seen[0][2]["Host"] == f"[{PUBLIC_V6}]:8080"


def test_dns_rebinding_cannot_swap_the_address(monkeypatch, server):
    answers = iter([[PUBLIC_V4]])  # a second lookup would answer 127.0.0.1
    calls = fake_dns(monkeypatch, {"rebind.example.com": lambda: next(answers, ["127.0.0.1"])})
    chosen = land_on(monkeypatch, server.port)
    answer = request("GET", "http://rebind.example.com:8080/ok", limits=FAST)
    assert answer.status == 200 and answer.address == PUBLIC_V4
    assert calls == ["rebind.example.com"]  # resolved once
    assert chosen == [(socket.AF_INET, (PUBLIC_V4, 8080))]  # and the checked address used
    assert server.seen[0][2]["Host"] == "rebind.example.com:8080"


@pytest.mark.parametrize(
    "url",
    [
        "http://Hooks.Example.com:80/signed?b=2&a=1",  # host case and default port as written
        "http://hooks.example.com/signed",
        "http://hooks.example.com:8080/signed?",
    ],
)
def test_receiver_rebuilds_the_signed_url_from_host_and_target(monkeypatch, server, url):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4]})
    land_on(monkeypatch, server.port)
    form = {"MessageStatus": "delivered", "MessageSid": "SM" + "b" * 32}
    sig = signature("secret", url, form)
    answer = request("POST", url, form=form, headers={"X-Twilio-Signature": sig}, limits=FAST)
    assert answer.status == 204  # the route rebuilds http://{Host}{path} and validates


def test_root_path_and_query_only(monkeypatch, server):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4]})
    land_on(monkeypatch, server.port)
    assert request("GET", "http://hooks.example.com?x=1", limits=FAST).error is None
    assert request("GET", "http://hooks.example.com", limits=FAST).error is None
    assert [seen[1] for seen in server.seen] == ["/?x=1", "/"]


def test_next_address_tried_when_the_first_refuses(monkeypatch, server):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V6, PUBLIC_V4]})
    chosen = []

    def connect(family, sockaddr, timeout):
        chosen.append(sockaddr[0])
        if family == socket.AF_INET6:
            raise ConnectionRefusedError
        return socket.create_connection(("127.0.0.1", server.port), timeout)

    monkeypatch.setattr(outbound_addresses, "_connect", connect)
    answer = request("GET", "http://hooks.example.com/ok", limits=FAST)
    assert (answer.status, answer.address, chosen) == (200, PUBLIC_V4, [PUBLIC_V6, PUBLIC_V4])


def test_unknown_name_is_dns_error(no_connect):
    answer = request("GET", "http://no-such-host.invalid/", limits=FAST)
    assert (answer.error, answer.status, answer.address) == ("dns", None, None)


def test_hanging_resolver_bounded_by_connect_timeout(monkeypatch, no_connect):
    fake_dns(monkeypatch, {"slow.example.com": lambda: time.sleep(2) or [PUBLIC_V4]})
    started = time.monotonic()
    answer = request("GET", "http://slow.example.com/", limits=Limits(connect_s=0.3))
    assert answer.error == "dns"
    assert time.monotonic() - started < 0.3 + SLACK


# ---------------------------------------------------------------- HTTP behaviour


def test_ok_with_body_and_headers(server):
    answer = local("GET", server, "/ok")
    assert (answer.status, answer.body, answer.error, answer.ok) == (200, b"hello", None, True)
    assert answer.headers["content-type"] == "text/plain"
    assert answer.headers["x-twice"] == "a"
    assert 0 <= answer.latency_ms < 3000
    _, path, headers, body = server.seen[0]
    assert (path, body) == ("/ok", b"")
    assert headers["User-Agent"] == "TwilioProxy/1.1"
    assert headers["Connection"] == "close"
    assert "Content-Length" not in headers and "Content-Type" not in headers


def test_post_form_is_signed_and_validates_at_the_receiver(server):
    url = f"http://127.0.0.1:{server.port}/signed?via=herald"
    form = {"MessageSid": "SM" + "a" * 32, "MediaUrl0": "https://m/0", "Tag": ["b", "a"]}
    sig = signature("secret", url, form)
    answer = request(
        "POST", url, form=form, headers={"X-Twilio-Signature": sig}, allow_private=True
    )
    assert (answer.status, answer.error) == (204, None)
    method, path, headers, body = server.seen[0]
    assert (method, path) == ("POST", "/signed?via=herald")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert int(headers["Content-Length"]) == len(body)
    assert parse_qsl(body.decode()) == [
        ("MessageSid", "SM" + "a" * 32),
        ("MediaUrl0", "https://m/0"),
        ("Tag", "b"),
        ("Tag", "a"),
    ]
    wrong = request("POST", url, form=form, headers={"X-Twilio-Signature": "x"}, allow_private=True)
    assert wrong.status == 403


def test_caller_headers_replace_defaults_and_empty_form(server):
    answer = local("POST", server, "/ok", form={}, headers={"user-agent": "Custom/1"})
    assert answer.status == 200
    _, _, headers, body = server.seen[0]
    assert headers.get_all("User-Agent") == ["Custom/1"]
    assert (headers["Content-Length"], body) == ("0", b"")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_fragment_never_sent(raw):
    seen = []

    def script(conn, stop):
        seen.append(read_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    srv = raw(script)
    url = f"http://127.0.0.1:{srv.port}/cb?a=%20b#rc=2&ct=1000&tt=10000"
    answer = request("POST", url, form={"A": "1"}, allow_private=True, limits=FAST)
    assert answer.status == 200
    assert seen[0].startswith(b"POST /cb?a=%20b HTTP/1.1\r\n")
    assert b"#" not in seen[0] and b"rc=2" not in seen[0]
    assert f"\r\nHost: 127.0.0.1:{srv.port}\r\n".encode() in seen[0]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_credentials_in_the_url_go_as_basic_auth_and_are_not_signed(server, method):
    """Twilio's rule: `user:password@` is sent as an Authorization header and left out of
    the URL it signs, so the receiver's RequestValidator, which sees no credentials in its
    own URL, accepts the signature."""
    receiver_url = f"http://127.0.0.1:{server.port}/signed?via=herald"
    given = f"http://hook%40user:p%3Ass word@127.0.0.1:{server.port}/signed?via=herald#rc=1"
    given = given.replace(" ", "%20")
    url, _ = fragment_overrides(given)
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    answer = twilio_request(method, url, form, "secret", None, FAST, True)
    assert (answer.status, answer.error) == (204, None)  # the route validated the signature
    seen_method, path, headers, _ = server.seen[0]
    assert seen_method == method and path.startswith("/signed?via=herald")
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"hook@user:p:ss word").decode()
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    signed_over = receiver_url if method == "POST" else f"http://127.0.0.1:{server.port}{path}"
    validated = RequestValidator("secret").validate(
        signed_over, form if method == "POST" else {}, headers["X-Twilio-Signature"]
    )
    assert validated


def test_credentials_on_a_plain_request_too(raw):
    """A media fetch (outbound.request) sends them the same way; nothing of them is on the
    request line or in Host."""
    seen = []

    def script(conn, stop):
        seen.append(read_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    srv = raw(script)
    answer = request("GET", f"http://u:s3cr3t@127.0.0.1:{srv.port}/a.png", allow_private=True)
    assert answer.status == 200
    assert seen[0].startswith(b"GET /a.png HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{srv.port}\r\n".encode() in seen[0]
    assert b"\r\nAuthorization: Basic dTpzM2NyM3Q=\r\n" in seen[0]
    assert b"s3cr3t" not in seen[0] and b"u:" not in seen[0]


@pytest.mark.parametrize(
    ("url", "bare", "authorization"),
    [
        ("https://h.example/cb", "https://h.example/cb", None),
        ("https://u:p@h.example/cb?x=1#rc=2", "https://h.example/cb?x=1#rc=2", "Basic dTpw"),
        ("https://u@h.example:8443/", "https://h.example:8443/", "Basic dTo="),
        ("http://@h.example/cb?", "http://h.example/cb?", None),
        ("HTTP://u:p@H.example/a", "HTTP://H.example/a", "Basic dTpw"),
        ("ftp://u:p@h.example/", "ftp://u:p@h.example/", None),
    ],
)
def test_credentials_are_cut_out_of_the_url_as_written(url, bare, authorization):
    assert credentials(url) == (bare, authorization)


@pytest.mark.parametrize(
    ("url", "callable_"),
    [
        ("https://h.example/cb", True),
        ("https://user:pw@h.example/cb#rc=2", True),
        ("http://h.example/x?a=%20b", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("data:text/html,hi", False),
        ("https://h.example/x%0d%0aSet-Cookie:%20a", False),
        ("https://h.example/x#rc=1%0a", False),
        ("https://h.example/x\n", False),
        ("https://us%0aer:pw@h.example/", False),
        ("https://h.example:0/", False),
        ("/relative", False),
    ],
)
def test_what_is_callable_is_what_a_call_accepts(url, callable_):
    assert is_callable(url) is callable_


def test_non_ascii_path_sent_percent_encoded(server):
    answer = local("GET", server, "/ok?q=caf\u00e9")
    assert answer.status == 200
    assert server.seen[0][1] == "/ok?q=caf%C3%A9"


def test_server_error_is_an_answer_not_an_error(server):
    answer = local("POST", server, "/fail")
    assert (answer.status, answer.body, answer.error, answer.ok) == (500, b"oops", None, False)


def test_redirect_not_followed(server):
    answer = local("POST", server, "/redirect")
    assert (answer.status, answer.error) == (302, None)
    assert answer.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    assert len(server.seen) == 1


def test_head_has_no_body(server):
    answer = local("HEAD", server, "/ok")
    assert (answer.status, answer.body, answer.headers["content-length"]) == (200, b"", "5")


def test_body_over_the_limit(server):
    answer = local("GET", server, "/big", limits=Limits(max_body=1000))
    assert (answer.status, answer.error, answer.body) == (200, "too large", b"")
    assert answer.headers["content-length"] == "100000"


def test_body_exactly_at_the_limit(server):
    assert local("GET", server, "/exact", limits=Limits(max_body=1024)).body == b"y" * 1024
    assert local("GET", server, "/exact", limits=Limits(max_body=1023)).error == "too large"


def test_chunked_body(server):
    url = f"http://127.0.0.1:{server.port}/chunked"
    answer = request("GET", url, allow_private=True)
    assert (answer.status, answer.body, answer.error) == (200, b"z" * 1000, None)
    small = request("GET", url, allow_private=True, limits=Limits(max_body=999))
    assert (small.status, small.error, small.body) == (200, "too large", b"")


def test_endless_body_stops_at_the_limit(server):
    started = time.monotonic()
    answer = local("GET", server, "/stream")
    assert (answer.status, answer.error, answer.body) == (200, "too large", b"")
    assert time.monotonic() - started < 0.5 + SLACK


def test_trickling_body_held_to_the_total_timeout(server):
    limits = Limits(connect_s=1, read_s=1, total_s=0.6)
    started = time.monotonic()
    answer = local("GET", server, "/trickle", limits=limits)
    elapsed = time.monotonic() - started
    assert (answer.status, answer.error, answer.body) == (200, "timeout", b"")
    # The deadline holds: socket timeouts shrink as it nears (slack only for a busy machine).
    assert 0.59 <= elapsed < 0.6 + SLACK and answer.latency_ms < (0.6 + SLACK) * 1000


def test_trickling_headers_held_to_the_total_timeout(raw):
    def script(conn, stop):
        read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000:
            if stop.wait(0.05):
                return
            conn.sendall(bytes([byte]))

    srv = raw(script)
    limits = Limits(connect_s=1, read_s=1, total_s=0.5)
    started = time.monotonic()
    answer = local("GET", srv, "/", limits=limits)
    assert (answer.status, answer.error) == (None, "timeout")
    assert time.monotonic() - started < 0.5 + SLACK


def test_silent_server_read_timeout(raw):
    def script(conn, stop):
        read_request(conn)
        stop.wait(5)

    srv = raw(script)
    started = time.monotonic()
    limits = Limits(read_s=0.3, total_s=5)
    answer = local("POST", srv, "/", limits=limits)
    assert (answer.status, answer.error, answer.address) == (None, "timeout", "127.0.0.1")
    assert 0.29 <= time.monotonic() - started < 0.3 + SLACK


def test_refused_port():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    answer = request("GET", f"http://127.0.0.1:{port}/", allow_private=True, limits=FAST)
    assert (answer.status, answer.error) == (None, "refused")


def test_connect_timeout(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4]})
    seen = []

    def connect(family, sockaddr, timeout):
        seen.append(timeout)
        raise TimeoutError

    monkeypatch.setattr(outbound_addresses, "_connect", connect)
    answer = request("GET", "http://hooks.example.com/", limits=Limits(connect_s=0.5))
    assert (answer.status, answer.error) == (None, "connect timeout")
    assert 0 < seen[0] <= 0.5


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (b"", "no response"),
        (b"hello\r\n\r\n", "bad response"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "bad response"),
        (b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n", "bad response"),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", "bad response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "incomplete"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nhello", "bad response"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad response"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "incomplete"),
    ],
)
def test_broken_answers(raw, text, error):
    srv = raw(reply(text))
    answer = local("GET", srv, "/")
    assert (answer.error, answer.body) == (error, b"")


def test_interim_100_continue_skipped_and_close_delimited_body(raw):
    text = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\nSet-Cookie: a\r\n"
    srv = raw(reply(text + b"Set-Cookie: b\r\n\r\nbody until close"))
    answer = local("POST", srv, "/")
    assert (answer.status, answer.body, answer.error) == (201, b"body until close", None)
    assert answer.headers["set-cookie"] == "a, b"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "get"},
        {"method": "GET POST"},
        {"method": "GET", "form": {"A": "1"}},
        {"headers": {"Host": "evil"}},
        {"headers": {"Content-Length": "1"}},
        {"headers": {"X-A": "1\r\nX-B: 2"}},
        {"headers": {"Bad Name": "1"}},
        {"headers": {"X-A": "caf\u00e9"}},
    ],
)
def test_caller_mistakes_raise(no_connect, kwargs):
    method = kwargs.pop("method", "POST")
    with pytest.raises(ValueError):
        request(method, "http://127.0.0.1/", allow_private=True, **kwargs)


# ---------------------------------------------------------------- HTTPS


def test_https_verifies_the_name_and_sends_sni(tls_server):
    url = f"https://localhost:{tls_server.port}/ok"
    answer = request("GET", url, allow_private=True, limits=Limits(cafile=tls_server.cafile))
    assert (answer.status, answer.body, answer.error) == (200, b"hello", None)
    assert tls_server.sni == ["localhost"]


def test_https_untrusted_certificate(tls_server):
    url = f"https://localhost:{tls_server.port}/ok"
    answer = request("GET", url, allow_private=True, limits=FAST)
    assert (answer.status, answer.error) == (None, "tls")
    assert tls_server.seen == []


def test_https_public_name_checked_against_the_certificate(monkeypatch, tls_server):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4], "other.example.com": [PUBLIC_V4]})
    chosen = land_on(monkeypatch, tls_server.port)
    limits = Limits(cafile=tls_server.cafile)
    answer = request("POST", "https://hooks.example.com/ok", form={"A": "1"}, limits=limits)
    assert (answer.status, answer.address) == (200, PUBLIC_V4)
    assert chosen == [(socket.AF_INET, (PUBLIC_V4, 443))]
    assert tls_server.sni == ["hooks.example.com"]
    assert tls_server.seen[0][2]["Host"] == "hooks.example.com"
    # The same server, reached under a name its certificate does not carry.
    wrong = request("POST", "https://other.example.com/ok", form={"A": "1"}, limits=limits)
    assert (wrong.status, wrong.error) == (None, "tls")
    assert len(tls_server.seen) == 1


def test_https_handshake_held_to_the_read_timeout(raw):
    srv = raw(lambda conn, stop: stop.wait(5))  # accepts, never says a word
    started = time.monotonic()
    limits = Limits(read_s=0.3, total_s=5)
    answer = request("GET", f"https://127.0.0.1:{srv.port}/", allow_private=True, limits=limits)
    assert (answer.status, answer.error) == (None, "timeout")
    assert time.monotonic() - started < 0.3 + SLACK


def test_a_body_not_read_is_never_too_large(server):
    """read_body=False (a status callback's answer): the status and headers only."""
    for path in ("/big", "/stream"):
        limits = Limits(connect_s=1, read_s=1, total_s=3, max_body=1000, read_body=False)
        answer = local("GET", server, path, limits=limits)
        assert (answer.status, answer.error, answer.body) == (200, None, b"")


def test_a_content_length_of_5000_digits_is_too_large_not_a_crash(raw):
    # int() refuses more than 4,300 digits with a ValueError, which request() never raises.
    srv = raw(reply(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\nhello"))
    assert (local("GET", srv, "/").error, local("GET", srv, "/").body) == ("too large", b"")
