"""make run's HTTP child calling the in-memory AWS held by its supervisor, without botocore.

The in-memory services (devtools/memory_aws/aws.py) live in the supervisor, so that what
they hold outlives each child the file watcher restarts. A child reaches them through a
door: a Unix socket in a private directory, one call and its answer at a time per
connection, each a length-prefixed pickle of (service, operation, kwargs) and of the
answer. `RemoteClient` has a boto3 client's methods for the operations the services know,
returns the same dicts and raises the same ClientErrors, so Herald's storage code runs on it
unchanged (chalicelib/storage/boto.substitute); what it saves is botocore's serialising,
signing and parsing, and moto's, on every call.

pickle is safe here: both ends are the same user's processes, and the socket lives in a
directory only that user can enter (devtools/services.embedded_aws makes it).
"""

import contextlib
import os
import pickle
import socket
import struct

from botocore.exceptions import ClientError, EndpointConnectionError

from devtools import unix_door

HEAD = struct.Struct("!I")
DOOR_VARIABLE = "HERALD_MEMORY_AWS_DOOR"
# The clients make run's child takes from the door rather than from botocore.
SERVICES = ("dynamodb", "dynamodbstreams", "sqs")
# A long poll waits up to 20 s; a door that says nothing for longer is gone.
TIMEOUT_SECONDS = 60.0


def _send(sock: socket.socket, value) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEAD.pack(len(data)) + data)


def _receive_exactly(sock: socket.socket, size: int, first: bool = False) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            if first and not buffer:
                return None
            raise ConnectionError("the door closed in the middle of a frame")
        buffer += chunk
    return bytes(buffer)


def _receive(sock: socket.socket):
    """One value, or None when the other side closed the connection between frames."""
    head = _receive_exactly(sock, HEAD.size, first=True)
    if head is None:
        return None
    (length,) = HEAD.unpack(head)
    return pickle.loads(_receive_exactly(sock, length))


class MemoryDoor:
    """Serves `memory` (an aws.MemoryAWS) on a Unix socket at `path`, a thread per connection."""

    def __init__(self, memory, path: str):
        self.memory, self.path = memory, path
        self._listener = unix_door.Listener(path, lambda conn: self._serve(conn), "memory-door")

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError, ValueError, EOFError, pickle.PickleError):
            while (call := _receive(conn)) is not None:
                _send(conn, self.memory.answer(*call))

    def close(self) -> None:
        self._listener.close()


class Connections:
    """Calls through the door at `path` from another process, on a pool of connections."""

    def __init__(self, path: str):
        self.path = path
        self._pool = unix_door.Pool(path, TIMEOUT_SECONDS)

    def call(self, service: str, operation: str, kwargs: dict):
        conn = None
        try:
            conn = self._pool.take()
            _send(conn, (service, operation, kwargs))
            answer = _receive(conn)
            if answer is None:
                raise ConnectionError("the door closed")
        except (OSError, ValueError, EOFError, pickle.PickleError) as error:
            if conn is not None:
                conn.close()
            # What botocore raises when it cannot reach an endpoint: storage reads it as
            # Unavailable, a queue's poller as a poll to try again.
            raise EndpointConnectionError(endpoint_url=f"unix:{self.path}", error=error) from None
        self._pool.give(conn)
        outcome, value = answer
        if outcome == "error":
            raise ClientError(value, operation)
        return value

    def close(self) -> None:
        self._pool.close()


class RemoteClient:
    """A boto3 client's face on one of the door's services: `client.put_item(**kwargs)`."""

    # devtools.event_sources.StreamSource: this client's GetRecords takes WaitSeconds.
    accepts_wait_seconds = True

    def __init__(self, connections: Connections, service: str):
        self._connections, self._service = connections, service

    def __getattr__(self, operation: str):
        if operation.startswith("_"):
            raise AttributeError(operation)

        def call(**kwargs):
            return self._connections.call(self._service, operation, kwargs)

        call.__name__ = operation
        return call


def enter_from_environment(env: dict | None = None) -> Connections | None:
    """In make run's HTTP child: take the DynamoDB, its stream and SQS clients from the
    door the environment names (DOOR_VARIABLE), for every client made from now on; the
    pool, to close at exit. None (and botocore as before) when it names none."""
    from chalicelib.storage import boto

    env = os.environ if env is None else env
    path = env.get(DOOR_VARIABLE)
    if not path:
        return None
    connections = Connections(path)
    for service in SERVICES:
        boto.substitute(service, lambda service=service: RemoteClient(connections, service))
    return connections
