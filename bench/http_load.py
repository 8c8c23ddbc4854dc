"""The HTTP side of bench/local.py: a lean keep-alive client, the load it drives, and the bare
server it is compared with.

The client writes each request in one send on a socket with TCP_NODELAY, as urllib3 (and so
twilio-python) does, and parses only the status line, Content-Length and Connection: so that
on a 2-core machine the client, not Herald, costs as little of the CPU as it can. The bare
server is the yardstick: Python's own threaded HTTP server answering every request at once
with a canned body as long as Herald's answer, so a figure divided by the bare one is
Herald's cost over what this client and Python's HTTP stack cost anyway.

    python -m bench.http_load PORT    # the bare server, until SIGTERM
"""

import base64
import math
import signal
import socket
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def request_bytes(method: str, path: str, port: int, headers: dict, form: dict | None = None):
    body = urlencode(form).encode() if form is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded"]
    if form is not None or method in ("POST", "PUT"):
        lines += [f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """One kept-open HTTP/1.1 connection; reconnects when the server closes it."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request (bytes from request_bytes); (status, body)."""
        if self.sock is None:
            self.sock = self._connect()
        try:
            self.sock.sendall(raw)
            return self._answer()
        except (OSError, ConnectionError):
            self.close()
            raise

    def _read_more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buffer += data

    def _answer(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read_more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields.get("content-length", "0"))
        while len(self.buffer) < length:
            self._read_more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def closed_loop(port: int, requests: list[bytes], clients: int) -> dict:
    """`clients` threads, each on its own kept-open connection, send `requests` as fast as
    answers come; per-request latency, answers by status, and the rate."""
    sent = _Sent(requests)
    cursor = iter(range(len(requests)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def run() -> None:
        connection = Connection(port)
        start.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            sent.send(connection, index)
        connection.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return sent.result(time.perf_counter() - began)


def paced(port: int, requests: list[bytes], rate: float, clients: int = 16) -> dict:
    """Send request i at t0 + i/rate from a pool of kept-open connections (a slow answer
    delays no later request while a connection is free)."""
    sent = _Sent(requests)
    pool = [Connection(port) for _ in range(clients)]
    free = threading.Semaphore(clients)
    lock = threading.Lock()
    workers = []

    def one(index: int) -> None:
        with lock:
            connection = pool.pop()
        sent.send(connection, index)
        with lock:
            pool.append(connection)
        free.release()

    began = time.perf_counter() + 0.05
    for index in range(len(requests)):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        free.acquire()
        worker = threading.Thread(target=one, args=(index,), daemon=True)
        worker.start()
        workers.append(worker)
    for worker in workers:
        worker.join()
    took = time.perf_counter() - began
    for connection in pool:
        connection.close()
    return sent.result(took)


class _Sent:
    """Each request's answer (or the error that ended it) and latency, by its index."""

    def __init__(self, requests: list[bytes]):
        self.requests = requests
        self.answers: list[tuple[int, bytes] | None] = [None] * len(requests)
        self.latencies: list[float] = [0.0] * len(requests)
        self.errors: list[str] = []

    def send(self, connection: "Connection", index: int) -> None:
        began = time.perf_counter()
        try:
            self.answers[index] = connection.send(self.requests[index])
        except OSError as error:
            self.errors.append(type(error).__name__)
        self.latencies[index] = time.perf_counter() - began

    def result(self, took: float) -> dict:
        """Answers by status, errors (failed sends and 4xx/5xx), the rate and latencies."""
        statuses: dict[int, int] = {}
        for answer in self.answers:
            if answer is not None:
                statuses[answer[0]] = statuses.get(answer[0], 0) + 1
        ms = [value * 1000 for value in self.latencies]
        failed = sum(n for status, n in statuses.items() if status >= 400)
        return {
            "answers": self.answers,
            "statuses": statuses,
            "errors": len(self.errors) + failed,
            "rate": len(self.answers) / took,
            "p50_ms": percentile(ms, 50),
            "p99_ms": percentile(ms, 99),
            "seconds": took,
        }


def sequential_ms(port: int, request: bytes, count: int, keep_open: bool = True) -> float:
    """The median latency of `count` requests one after another, on one kept-open
    connection or each on a new one."""
    connection = Connection(port)
    times = []
    for _ in range(count):
        began = time.perf_counter()
        status, _ = connection.send(request)
        times.append((time.perf_counter() - began) * 1000)
        assert status < 400, status
        if not keep_open:
            connection.close()
    connection.close()
    return statistics.median(times)


def bare_server(port: int) -> None:
    """Answer every request at once on 127.0.0.1:port: 201 and JSON as long as the number
    the path ends with says (`/900`: 900 bytes; 900 when it names none)."""

    class Bare(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            wanted = self.path.rstrip("/").rsplit("/", 1)[-1].split("-")[0]
            size = int(wanted) if wanted.isdigit() else 900
            body = b'{"sid": "' + b"x" * max(0, size - 11) + b'"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = socket.SOMAXCONN  # 16 clients connect at once

    server = Server(("127.0.0.1", port), Bare)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    bare_server(int(sys.argv[1]))
