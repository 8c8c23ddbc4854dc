"""make run's HTTP child (devtools/http_child.py) as a server: how it stops."""

import contextlib
import http.client
import socket
import threading

from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalDevServer

from devtools import http_child, inherited_server


@contextlib.contextmanager
def serving():
    """The child's server class and handler on a 127.0.0.1 socket, with a one-route app."""
    app = Chalice("stops")

    @app.route("/")
    def index():
        return {"ok": True}

    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    host, port = listener.getsockname()[:2]
    dev_server = LocalDevServer(
        app, Config(), host, port,
        handler_cls=http_child.TwilioRequestHandler,
        server_cls=lambda address, handler: inherited_server.InheritedSocketServer(
            listener, address, handler
        ),
    )  # fmt: skip
    server = dev_server.server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, port
    finally:
        server.shutdown()
        thread.join()
        listener.close()


def test_a_request_sent_on_a_kept_open_connection_as_the_stop_begins_is_answered():
    """The stop can begin just after an answer left without `Connection: close`: the client
    keeps the connection and sends its next request on it. That request is answered (and
    closes the connection), not dropped: make run's restart on a file change would fail a
    request of every client that keeps connections open, as the SDKs do."""
    with serving() as (server, port):
        served = server.request_served

        def stop_begins_after_this_answer(conn) -> None:
            served(conn)
            server.stopping = True  # as drain() sets it

        server.request_served = stop_begins_after_this_answer
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        first = conn.getresponse()
        assert (first.status, first.getheader("Connection")) == (200, None)
        first.read()
        server.request_served = served
        conn.request("GET", "/")
        second = conn.getresponse()
        assert (second.status, second.getheader("Connection")) == (200, "close")
        assert second.read() == b'{"ok":true}'
        conn.close()
        drained = threading.Thread(target=server.drain, kwargs={"timeout": 10})
        drained.start()
        drained.join(timeout=10)
        assert not drained.is_alive()


def test_a_kept_open_connection_that_stays_idle_is_closed_by_the_stop():
    with serving() as (server, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        conn.getresponse().read()
        server.drain(timeout=10)  # returns once the idle connection is closed
        assert server._connections == {}
        conn.sock.settimeout(5)
        assert conn.sock.recv(1) == b""  # closed by the server
        conn.close()
