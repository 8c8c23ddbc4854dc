"""The Unix sockets make run's processes call the embedded AWS through: a listener that
serves each connection on a thread of its own, and a pool of connections on the caller's
side, one per call in flight, kept for the next. What travels over them is each door's own
(devtools/direct_aws.py: HTTP requests; devtools/memory_aws/door.py: pickled calls)."""

import contextlib
import os
import queue
import socket
import threading
from collections.abc import Callable


class Listener:
    """Accepts connections on a Unix socket at `path` and hands each to `serve` (which
    closes it) on a thread of its own, until `close`."""

    def __init__(self, path: str, serve: Callable[[socket.socket], None], name: str):
        self.path, self._serve = path, serve
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(socket.SOMAXCONN)
        self._thread = threading.Thread(target=self._accept, name=name, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class Pool:
    """Connections to the Unix socket at `path`: `take` one (an idle one, or a new one), then
    `give` it back after a whole exchange, or close it after a failed one."""

    def __init__(self, path: str, timeout: float):
        self.path, self.timeout = path, timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()

    def take(self) -> socket.socket:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(self.timeout)
        try:
            conn.connect(self.path)
        except OSError:
            conn.close()
            raise
        return conn

    def give(self, conn: socket.socket) -> None:
        self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
