"""Whole responses of the territorial OGC collections (barrios, micro-barrios), in memory.

Their rows change only when a territory is loaded, and every load sends
`NOTIFY vigia_territory` in its own transaction (`app.territory.service.load_territory`),
delivered on commit to the listener thread of every process (`KeyCacheListener.others`),
which empties this cache. So a page or tile of these collections is read from PostgreSQL
once per URL and per territory version, and then answered on the event loop: no worker
thread, no connection, no transaction (a small public page cost ~5 ms more than its SQL on
a loaded machine, mostly thread hops). Its ETag answers `If-None-Match` with a 304.

Fail closed, as the key cache (`app.identity.key_cache`):
- nothing is served until the listener has run LISTEN, and everything is dropped and
  nothing served as soon as that connection fails, until it has reconnected;
- a response read before an invalidation is not stored (`generation`);
- a hit is refused while a notification waits unread on the listener's socket;
- `vigia territory load` returns only once every listening process has emptied its cache.
A change made behind the loader's back (SQL by hand) is not notified: `ttl_s` bounds how
long it can go unseen.

Only collections whose body is the same for every caller are cached (public, no row scope,
no audited rows: `Collection.cacheable`); the key is the full request URL, since the body's
links are absolute. Bounded in bytes; the oldest entries go first.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from app.identity.key_cache import Invalidated
from app.models import Barrio, Comuna, MicroBarrio

# Tables written only by `load_territory`, which notifies `territory.CHANNEL` in the same
# transaction. A collection reading anything else is never cached (`Collection.cacheable`).
NOTIFIED_TABLES = frozenset({Comuna.__tablename__, Barrio.__tablename__, MicroBarrio.__tablename__})


@dataclass(frozen=True, slots=True)
class Cached:
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...]  # extra response headers (the ETag is added)
    etag: str
    cached_until: float  # monotonic


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def not_modified(etag: str, if_none_match: str | None) -> bool:
    """Whether the request's `If-None-Match` names `etag` (or is `*`)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


class ResponseCache(Invalidated):
    """Response bodies by URL; bounded in bytes and in time; off until `enable()`."""

    def __init__(
        self, *, max_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(ttl_s=ttl_s, clock=clock)
        self.max_bytes = max_bytes
        self._entries: dict[str, Cached] = {}
        self._bytes = 0

    def invalidate(self, payload: str = "") -> None:
        """A territory was loaded: every cached response may be stale (a page of barrios can
        span comunas), so all go."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._bytes = 0

    def lookup(self, key: str) -> Cached | None:
        if not self._enabled or self.pending():  # first: then the entry read is current
            return None
        entry = self._entries.get(key)
        if entry is None or entry.cached_until <= self.clock():
            return None
        return entry

    def store(
        self,
        generation: int,
        key: str,
        body: bytes,
        media_type: str,
        headers: tuple[tuple[str, str], ...] = (),
        etag: str | None = None,
    ) -> Cached:
        """The response as cached (with its ETag); kept only if nothing changed meanwhile."""
        entry = Cached(body, media_type, headers, etag or etag_of(body), self.clock() + self.ttl_s)
        size = len(body) + len(key)
        with self._lock:
            if not self._enabled or generation != self._generation or size > self.max_bytes:
                return entry
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body) + len(key)
            while self._entries and self._bytes + size > self.max_bytes:
                oldest = next(iter(self._entries))  # insertion order: the oldest first
                self._bytes -= len(self._entries.pop(oldest).body) + len(oldest)
            self._entries[key] = entry
            self._bytes += size
        return entry

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a response of a cacheable collection goes once read: its key and the cache's
    generation taken before the read."""

    cache: ResponseCache
    key: str
    generation: int


def lookup(request: Request, cacheable: bool) -> Response | Slot | None:
    """The cached answer to this request, else the slot to keep the answer in (None: the
    collection is not cacheable or this process has no cache)."""
    cache: ResponseCache | None = getattr(request.app.state, "territory_cache", None)
    if cache is None or not cacheable:
        return None
    key = str(request.url)
    hit = cache.lookup(key)
    if hit is not None:
        return respond(request, hit)
    return Slot(cache, key, cache.generation())


def keep(
    request: Request,
    slot: Slot | None,
    body: bytes,
    media_type: str,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    """The response to a read, kept in the cache when `slot` says so, with its ETag."""
    if slot is None:
        return Response(body, media_type=media_type, headers=headers)
    extra = tuple((k, v) for k, v in (headers or {}).items() if k.lower() != "etag")
    return respond(
        request, slot.cache.store(slot.generation, slot.key, body, media_type, extra, etag)
    )


def respond(request: Request, entry: Cached) -> Response:
    headers = {**dict(entry.headers), "ETag": entry.etag}
    if not_modified(entry.etag, request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type=entry.media_type, headers=headers)
