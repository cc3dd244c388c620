"""A short-lived, per-process memory of verified API keys, invalidated through PostgreSQL.

Verifying a key costs a connection checkout and a query (plus the auth-failure limiter's
query): about 4 ms per request. A key verified once is remembered for `ttl_s` seconds under
its prefix, with its SHA-256 digest, its caller and its expiry, so the next requests compare
a digest in memory (constant time) and check the expiry against the clock.

Revocation is not delayed by the cache: a trigger on `api_key` (migration 0010) sends
`NOTIFY vigia_api_key, '<prefix>'` when a key is revoked, changed or deleted, delivered on
commit to a listener thread in every process (`KeyCacheListener`), which evicts the key.
Fail closed:
- the cache serves nothing until its listener has run LISTEN, and is flushed and disabled
  as soon as that connection fails, until it has reconnected;
- a verification that raced with an invalidation is not stored (`generation`);
- a hit is refused while a notification waits unread on the listener's socket, so a request
  that arrives before the listener thread has woken up goes to the database.
Each listener answers `NOTIFY vigia_api_key_ack`, so `vigia apikey revoke` returns only once
every process has forgotten the key (`acknowledged`). Expiry needs no notification: it is
checked on every hit.

The same listener thread serves other in-process caches invalidated the same way (`others`:
channel -> cache, e.g. the OGC territory responses of `app.ogc.response_cache` on
`vigia_territory`), with the same fail-closed rules and an acknowledgement on
`<channel>_ack`: one LISTEN connection per process, not one per cache.
"""

from __future__ import annotations

import hmac
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from app.identity.caller import Caller

log = logging.getLogger("vigia")

CHANNEL = "vigia_api_key"
ACK_CHANNEL = "vigia_api_key_ack"  # a listener's "forgotten", payload the key's prefix
LISTENER_APP = "vigia-key-cache"  # the listeners' application_name, then ":<os pid>"
FLUSH_ALL = "*"  # payload of a TRUNCATE: forget every key


class Invalidated:
    """A cache the listener keeps honest: off until LISTEN runs, flushed when it fails.

    The shared half of the key cache and the territory response cache
    (`app.ogc.response_cache`): the switch, the lock, the generation a `store` must match
    (a read that began before an invalidation is not kept), and `pending`, set by the
    listener. Subclasses keep the entries: `_clear` forgets them all, under the lock.
    """

    def __init__(self, *, ttl_s: float, clock: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._enabled = False
        # set by the listener: whether a notification may be waiting unread
        self.pending: Callable[[], bool] = lambda: False

    @property
    def enabled(self) -> bool:
        return self._enabled

    def enable(self) -> None:
        with self._lock:
            self._generation += 1
            self._enabled = True

    def disable(self) -> None:
        """Forget everything and serve nothing (the invalidations can no longer be heard)."""
        with self._lock:
            self._enabled = False
            self._generation += 1
            self._clear()

    def generation(self) -> int:
        """Taken before the database read; `store` refuses the result if anything was
        invalidated meanwhile (the read may predate the change)."""
        return self._generation

    def invalidate(self, payload: str) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError


def ack_channel(channel: str) -> str:
    """Where a listener confirms it applied a notification of `channel`."""
    return ACK_CHANNEL if channel == CHANNEL else f"{channel}_ack"


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: str
    caller: Caller
    expires_at: datetime | None
    cached_until: float  # monotonic


class KeyCache(Invalidated):
    """Verified keys by prefix; bounded in entries and in time; off until `enable()`."""

    def __init__(
        self, *, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(ttl_s=ttl_s, clock=clock)
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}

    def _clear(self) -> None:
        self._entries.clear()

    def invalidate(self, prefix: str) -> None:
        with self._lock:
            self._generation += 1
            if prefix == FLUSH_ALL:
                self._entries.clear()
            else:
                self._entries.pop(prefix, None)

    def store(
        self,
        generation: int,
        prefix: str,
        digest: str,
        caller: Caller,
        expires_at: datetime | None,
    ) -> None:
        with self._lock:
            if not self._enabled or generation != self._generation or self.max_entries <= 0:
                return
            self._entries.pop(prefix, None)
            while len(self._entries) >= self.max_entries:  # the oldest first (insertion order)
                del self._entries[next(iter(self._entries))]
            self._entries[prefix] = _Entry(digest, caller, expires_at, self.clock() + self.ttl_s)

    def lookup(self, prefix: str, digest: str, now: datetime) -> Caller | None:
        """The caller of a key verified recently, or None (then ask the database)."""
        if not self._enabled or self.pending():  # first: then the entry read is current
            return None
        entry = self._entries.get(prefix)
        if (
            entry is None
            or entry.cached_until <= self.clock()
            or (entry.expires_at is not None and entry.expires_at <= now)
        ):
            # the database answers: the expiry message, the failure count, the revocation
            return None
        if not hmac.compare_digest(entry.digest, digest):
            return None
        return entry.caller

    def __len__(self) -> int:
        return len(self._entries)


def listener_conninfo(database_url: str) -> str:
    """libpq's form of the service's SQLAlchemy URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _listen_to(channel: str) -> sql.Composed:
    """`LISTEN <channel>`: a channel is an identifier, composed as one (no f-string SQL)."""
    return sql.SQL("LISTEN {}").format(sql.Identifier(channel))


def listener_name(pid: int | None = None) -> str:
    """The listener connection's application_name: which process listens is visible in
    pg_stat_activity (a test waits for two given servers, not for any two listeners)."""
    return f"{LISTENER_APP}:{os.getpid() if pid is None else pid}"


class KeyCacheListener:
    """One thread per process: LISTEN on its own autocommit connection, evict on NOTIFY.

    A lost connection disables the cache at once; the thread reconnects (every
    `retry_s`) and only then enables it again, empty.
    """

    POLL_S = 0.5  # how often the thread looks at the stop flag and pings an idle connection
    PING_EVERY_S = 5.0

    def __init__(
        self,
        cache: KeyCache,
        conninfo: str,
        *,
        retry_s: float = 1.0,
        others: Mapping[str, Invalidated] | None = None,
    ) -> None:
        self.cache = cache
        self.caches: dict[str, Invalidated] = {CHANNEL: cache, **(others or {})}
        self.conninfo = conninfo
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._fd = -1
        self._draining = False  # the thread is reading and applying notifications
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._thread = threading.Thread(target=self._run, name="vigia-key-cache", daemon=True)
        for each in self.caches.values():
            each.pending = self._pending

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._disable()

    def _disable(self) -> None:
        for each in self.caches.values():
            each.disable()

    def _pending(self) -> bool:
        """Whether a notification (or the connection's end) may be arrived but not applied.

        The socket first, then the flag: the thread raises the flag before it reads the
        socket, so data gone from the socket is either applied or still flagged.
        """
        fd = self._fd
        if fd < 0:
            return True
        try:
            readable, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable) or self._draining

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # any failure: the invalidations may be lost
                self._disable()
                self._fd = -1
                if not self._stop.is_set():
                    log.warning(
                        "cachés en memoria desactivadas (claves, territorio): %s; reconectando", exc
                    )
            finally:
                self._close()
            self._stop.wait(self.retry_s)

    def _listen(self) -> None:
        conn = psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name=listener_name(),
            # a silent network failure is noticed within seconds, not at TCP's leisure
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            tcp_user_timeout=5000,
        )
        self._conn = conn
        for channel in reversed(self.caches):  # the keys' last: its LISTEN shows as the
            conn.execute(_listen_to(channel))  # connection's query in pg_stat_activity
        self._fd = conn.fileno()
        for each in self.caches.values():  # after LISTEN: every later commit will be heard
            each.enable()
        idle_since = time.monotonic()
        while not self._stop.is_set():
            readable, _, _ = select.select([self._fd], [], [], self.POLL_S)
            ping = time.monotonic() - idle_since >= self.PING_EVERY_S
            if readable or ping:
                self._draining = True
                try:
                    if ping:  # raises if the server or the network went away
                        conn.execute("SELECT 1")  # (a notification meanwhile is kept)
                    self._apply(conn)
                finally:
                    self._draining = False
                idle_since = time.monotonic()

    def _apply(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """Evict what the notifications name, then say so to whoever waits (`acknowledged`).

        Until nothing more arrives: a notification received while acknowledging is kept by
        psycopg, not left on the socket."""
        while received := {(n.channel, n.payload) for n in conn.notifies(timeout=0)}:
            for channel, payload in received:
                self.caches[channel].invalidate(payload)
            for channel, payload in received:
                conn.execute("SELECT pg_notify(%s, %s)", (ack_channel(channel), payload))

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection may fail too
                log.debug("cierre de la conexión de la caché de claves", exc_info=True)


@dataclass
class Acknowledgements:
    """The listeners running when a change began, and those that confirmed its eviction."""

    expected: set[int] = field(default_factory=set)  # their backend pids
    received: set[int] = field(default_factory=set)

    @property
    def missing(self) -> int:
        return len(self.expected - self.received)


@contextmanager
def acknowledged(
    conninfo: str, prefix: str, *, timeout_s: float = 5.0, channel: str = CHANNEL
) -> Iterator[Acknowledgements]:
    """Commit a change to key `prefix` inside; on leaving, wait until every process that
    was listening has evicted it (at most `timeout_s`).

    NOTIFY is delivered asynchronously: without this wait a request arriving within a
    millisecond of the commit could still be answered from a cache. With it, the revoke
    command returns only once no cache can serve the key. A listener whose connection is
    lost meanwhile disables its own cache; `missing` counts those that did not answer.
    `channel`: the notification's channel (another cache of `KeyCacheListener.others`).
    """
    acks = Acknowledgements()
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(_listen_to(ack_channel(channel)))
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name LIKE %s AND datname = current_database()",
            (LISTENER_APP + ":%",),
        )
        acks.expected = {int(pid) for (pid,) in rows}
        yield acks
        if not acks.expected:
            return
        for notify in conn.notifies(timeout=timeout_s):
            if notify.payload in (prefix, FLUSH_ALL):
                acks.received.add(notify.pid)
            if not acks.missing:
                break
