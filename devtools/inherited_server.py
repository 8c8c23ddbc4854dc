"""The HTTP child's server (devtools/http_child.py): threaded, on the listening socket the
supervisor keeps open across restarts, and able to stop without failing a request
(`drain`): what lets a restart refuse nothing."""

import contextlib
import socket
import threading
import time
from http.server import HTTPServer
from socketserver import ThreadingMixIn

# How long `drain` waits for the connections in flight to end.
DRAIN_SECONDS = 30.0
# A connection idle this long while stopping is closed: a client reusing it is unlikely.
IDLE_GRACE = 1.0


class InheritedSocketServer(ThreadingMixIn, HTTPServer):
    """A threaded HTTP server on an already listening socket, which it never binds or
    closes for the other processes sharing it; it can stop gracefully (`drain`)."""

    daemon_threads = True

    def __init__(self, listener: socket.socket, _address, handler):
        super().__init__(listener.getsockname(), handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.stopping = False
        self._lock = threading.Condition()
        # Each open connection: ("new" (no request yet) | "busy" | "served" | "idle", since).
        self._connections: dict[socket.socket, tuple[str, float]] = {}

    def get_request(self):
        conn, address = self.socket.accept()
        conn.setblocking(True)  # the listener is non-blocking: see supervisor.listen
        # An answer larger than the write buffer leaves in several writes: none may wait.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address

    def process_request(self, request, client_address):
        self._set(request, "new")
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self._lock:
            self._connections.pop(request, None)
            self._lock.notify_all()

    def _set(self, conn, state: str) -> None:
        with self._lock:
            self._connections[conn] = (state, time.monotonic())

    def reading_next(self, conn) -> None:
        """A connection waits for its next request. Even when stopping: a client that had
        its answer just before the stop began (without `Connection: close`) may already
        have sent its next request; closing now would fail it (RemoteDisconnected), so it
        is read and answered with `Connection: close`. A connection that sends nothing is
        closed by `drain` once it has been idle for IDLE_GRACE."""
        with self._lock:
            if self._connections.get(conn, ("new",))[0] != "new":
                self._connections[conn] = ("idle", time.monotonic())

    def request_started(self, conn) -> None:
        self._set(conn, "busy")

    def request_served(self, conn) -> None:
        self._set(conn, "served")

    def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Call after shutdown(): wait for every connection to end. A request in flight
        finishes, answered with `Connection: close`, so an active keep-alive client moves
        to the new process on its next request; a connection that stays idle (or sends
        nothing) for IDLE_GRACE seconds is closed, when a client reusing it is unlikely."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self.stopping = True
            while self._connections and time.monotonic() < deadline:
                now = time.monotonic()
                for conn, (state, since) in self._connections.items():
                    if state in ("new", "idle") and now - since > IDLE_GRACE:
                        with contextlib.suppress(OSError):
                            conn.shutdown(socket.SHUT_RD)  # its readline gets EOF
                self._lock.wait(0.1)
