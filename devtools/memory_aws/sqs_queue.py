"""One queue of the in-memory SQS (devtools/memory_aws/sqs.py): its messages, who may
receive them when, and the long poll that waits for them.

Every message is in one state: delayed, visible or in flight. Visible ones wait in a heap
by the order they came in (as moto hands them over); delayed and in-flight ones in a heap
by the moment they become visible; all of them in a heap by when they were sent, for the
retention period. A heap entry carries the message's version: a message that changed since
(deleted, received, its visibility changed) makes its older entries stale, dropped when
they reach the top. So every operation costs O(log n), whatever the queue holds.

A queue has one lock; its condition wakes the long polls waiting on it: a send wakes as
many as messages became visible, and a message due sooner than any before wakes them all
to wait for it instead. A poll sleeps until its deadline or the next due message, and
never holds the lock while it waits.
"""

import heapq
import itertools
import threading

DELAYED, VISIBLE, IN_FLIGHT = 0, 1, 2


class Message:
    __slots__ = (
        "attributes",
        "attributes_md5",
        "body",
        "body_md5",
        "due",
        "first_received",
        "id",
        "order",
        "received",
        "receives",
        "sent",
        "source_arn",
        "state",
        "trace",
        "version",
    )

    def __init__(self, message_id, body, body_md5, attributes, attributes_md5, sent, trace=None):
        self.id, self.body, self.body_md5 = message_id, body, body_md5
        self.attributes, self.attributes_md5 = attributes, attributes_md5
        self.sent, self.trace = sent, trace  # seconds; AWSTraceHeader
        self.receives, self.first_received, self.received = 0, None, 0.0
        self.source_arn = None  # the queue whose redrive policy moved it here
        self.state = None  # None: in no queue
        self.due, self.order, self.version = 0.0, 0, 0


class Gone(Exception):
    """A receipt handle's message is not in the queue any more (or never was)."""


class Stale(Exception):
    """A receipt handle from an earlier receive of a message received again since."""


class NotInFlight(Exception):
    """The message of a receipt handle is visible again."""


def wait_on(condition: threading.Condition, seconds: float) -> bool:
    return condition.wait(seconds)


class Queue:
    def __init__(self, name: str, arn: str, url: str, attributes: dict, created: float):
        self.name, self.arn, self.url = name, arn, url
        self.attributes, self.created, self.modified = attributes, created, created
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.messages: dict[str, Message] = {}
        self.counts = [0, 0, 0]  # by state
        self._visible: list = []  # (order, version, message)
        self._later: list = []  # (due, tick, version, message)
        self._kept: list = []  # (sent, order, message)
        self._ticks = itertools.count()

    def setting(self, name: str) -> int:
        return int(self.attributes[name])

    # --- changes of state (the lock held) ----------------------------------------------------

    def _enter(self, message: Message, delay: float, now: float) -> bool:
        """Whether the message is now the next one due."""
        message.order = next(self._ticks)
        self.messages[message.id] = message
        heapq.heappush(self._kept, (message.sent, message.order, message))
        if delay > 0:
            return self._schedule(message, DELAYED, now + delay)
        self._show(message)
        return False

    def _move(self, message: Message, state: int) -> None:
        if message.state is not None:
            self.counts[message.state] -= 1
        message.state = state
        self.counts[state] += 1
        message.version += 1

    def _show(self, message: Message) -> None:
        self._move(message, VISIBLE)
        heapq.heappush(self._visible, (message.order, message.version, message))

    def _schedule(self, message: Message, state: int, due: float) -> bool:
        """Put the message in `state` until `due`; whether it is now the next one due."""
        self._move(message, state)
        message.due = due
        heapq.heappush(self._later, (due, next(self._ticks), message.version, message))
        return self._later[0][-1] is message

    def _remove(self, message: Message) -> None:
        del self.messages[message.id]
        self.counts[message.state] -= 1
        message.state = None
        message.version += 1

    def _compact(self) -> None:
        """Drop every stale heap entry once they outnumber the live ones: a deleted message
        must not stay in memory until its retention period or visibility timeout ends. A
        live message has two entries; each rebuild follows as many changes: O(1) a change."""
        entries = len(self._kept) + len(self._visible) + len(self._later)
        if entries <= 4 * len(self.messages) + 192:
            return
        live = self.messages.values()
        self._kept = [(m.sent, m.order, m) for m in live]
        self._visible = [(m.order, m.version, m) for m in live if m.state == VISIBLE]
        self._later = [(m.due, m.order, m.version, m) for m in live if m.state != VISIBLE]
        for heap in (self._kept, self._visible, self._later):
            heapq.heapify(heap)

    def _advance(self, now: float) -> None:
        """Forget the messages past the retention period; show those now due."""
        kept, retention = self._kept, self.setting("MessageRetentionPeriod")
        while kept and kept[0][0] + retention <= now:
            message = heapq.heappop(kept)[-1]
            if self.messages.get(message.id) is message:
                self._remove(message)
        later = self._later
        while later and later[0][0] <= now:
            _, _, version, message = heapq.heappop(later)
            if message.version == version:
                self._show(message)
        self._compact()

    def _next_due(self) -> float | None:
        later = self._later
        while later and later[0][-1].version != later[0][2]:
            heapq.heappop(later)
        return later[0][0] if later else None

    # --- what the API calls --------------------------------------------------------------------

    def add(self, entries: list[tuple[Message, float]], now: float) -> None:
        """Enqueue (message, delay in seconds) pairs."""
        with self.changed:
            shown, sooner = 0, False
            for message, delay in entries:
                sooner = self._enter(message, delay, now) or sooner
                shown += delay <= 0
            if sooner:
                self.changed.notify_all()
            elif shown:
                self.changed.notify(shown)

    def adopt(self, messages: list[Message], source_arn: str, now: float) -> None:
        """Take in messages another queue's redrive policy sends here, as they were."""
        with self.changed:
            for message in messages:
                message.source_arn = source_arn
                self._enter(message, 0, now)
            self.changed.notify(len(messages))

    def receive(self, count, visibility, wait, clock, most_receives=None, waiting=wait_on):
        """Up to `count` messages, waiting up to `wait` seconds for the first; and the
        messages past `most_receives` taken out for the dead-letter queue. Each taken is
        (message, its receive count, first receive), read under the lock."""
        with self.changed:
            now = clock()
            deadline = now + wait
            while not self.closed:
                taken, dead = self._take(count, visibility, now, most_receives)
                if taken or dead or now >= deadline:
                    return taken, dead
                due = self._next_due()
                waiting(self.changed, (deadline if due is None else min(due, deadline)) - now)
                now = clock()
            return [], []

    def _take(self, count, visibility, now, most_receives):
        self._advance(now)
        taken, dead, visible = [], [], self._visible
        sooner = False
        while visible and len(taken) < count:
            _, version, message = heapq.heappop(visible)
            if message.version != version:
                continue
            if most_receives is not None and message.receives >= most_receives:
                self._remove(message)
                dead.append(message)
                continue
            message.receives += 1
            if message.first_received is None:
                message.first_received = now
            message.received = now
            # Due now at the soonest: a visibility of 0 shows it again on the next receive.
            sooner = self._schedule(message, IN_FLIGHT, now + visibility) or sooner
            taken.append((message, message.receives, message.first_received))
        if sooner:
            self.changed.notify_all()
        return taken, dead

    def _held(self, message_id: str, receive: int) -> Message:
        message = self.messages.get(message_id)
        if message is None:
            raise Gone(message_id)
        if message.receives != receive:
            raise Stale(message_id)
        if message.state != IN_FLIGHT:
            raise NotInFlight(message_id)
        return message

    def delete(self, handles: list[tuple[str, int]]) -> None:
        """Delete the messages of (message id, receive) handles: any receive's, as moto
        does; one already gone is deleted all the same."""
        with self.changed:
            for message_id, _ in handles:
                message = self.messages.get(message_id)
                if message is not None:
                    self._remove(message)
            self._compact()

    def change_visibility(
        self, message_id: str, receive: int, seconds: int, now: float, most: float
    ) -> None:
        """Make an in-flight message visible in `seconds`; raises Gone, Stale, NotInFlight,
        or ValueError past `most` seconds after its receive."""
        with self.changed:
            self._advance(now)
            message = self._held(message_id, receive)
            if now + seconds - message.received > most:
                raise ValueError(seconds)
            if seconds == 0:
                self._show(message)
                self.changed.notify(1)
            elif self._schedule(message, IN_FLIGHT, now + seconds):
                self.changed.notify_all()

    def purge(self) -> None:
        with self.changed:
            for message in self.messages.values():
                message.state = None
                message.version += 1
            self._reset()

    def tally(self, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed)."""
        with self.changed:
            self._advance(now)
            return self.counts[VISIBLE], self.counts[IN_FLIGHT], self.counts[DELAYED]

    def close(self) -> None:
        """Deleted: the long polls on it end with nothing."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()
