"""Rate limits kept in PostgreSQL, so every worker and every restart sees the same budget.

Same semantics as the in-memory `SlidingWindow` (app/api/limits.py), which stays as the
reference the tests inject: at most `limit` events per client in the last `window_s`
seconds; past it, the wait until the oldest event leaves the window (Retry-After).

One row per (bucket, client) holds the instants of its recent events. A hit is one
autocommit upsert: the row lock serialises concurrent hits on one client across workers,
so the limit is never exceeded, and the database clock is the only clock. Idle rows are
pruned by the process every PRUNE_EVERY hits.

Leases (`lease` > 1, the public limiter): the upsert records up to `lease` events at once,
and this process admits the client's next requests from those slots without asking the
database again, for at most `lease_s` seconds (unused slots are then dropped, still counted;
the public limiter's is VIGIA_LIMIT_PUBLIC_LEASE_S, 5 s by default, so a client reading a
page every second or two pays one round trip per `lease` requests, not one per request).
Every admitted request holds a slot recorded in PostgreSQL, so the sum over all workers
stays within `limit`. The tolerances, both stated here and tested in
tests/test_load_limits.py: a leased slot is recorded up to `lease_s` before its request, so it
leaves the window up to `lease_s` early (at most `limit` requests in any `window_s - lease_s`
seconds); slots leased but never used (at most `lease - 1` per worker and client) count as
spent, so a client spread over several workers may be refused that many requests early.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

# The events still in the window, oldest first, plus up to :n events of this instant, as
# many as the limit allows. `granted`: how many of this statement's own instant it holds.
_HIT = text(
    """
    INSERT INTO rate_limit_window AS w (bucket, client, hits)
    VALUES (:bucket, :client, array_fill(statement_timestamp(), ARRAY[least(:n, :limit)]))
    ON CONFLICT (bucket, client) DO UPDATE SET hits = (
        SELECT coalesce(array_agg(h ORDER BY h), '{}')
               || array_fill(statement_timestamp(),
                             ARRAY[greatest(0, least(:n, :limit - count(*)))::int])
        FROM unnest(w.hits) AS h
        WHERE h > statement_timestamp() - make_interval(secs => :window)
    )
    RETURNING (SELECT count(*) FROM unnest(hits) AS h WHERE h = statement_timestamp())
                  AS granted,
              extract(epoch FROM hits[1] + make_interval(secs => :window)
                                 - statement_timestamp()) AS wait
    """
)
_PEEK = text(
    """
    SELECT count(*) AS n,
           extract(epoch FROM min(h) + make_interval(secs => :window) - statement_timestamp())
    FROM rate_limit_window AS w, unnest(w.hits) AS h
    WHERE w.bucket = :bucket AND w.client = :client
      AND h > statement_timestamp() - make_interval(secs => :window)
    """
)
_PRUNE = text(
    """
    DELETE FROM rate_limit_window
    WHERE bucket = :bucket
      AND hits[cardinality(hits)] <= statement_timestamp() - make_interval(secs => :window)
    """
)


class PostgresWindow:
    """At most `limit` events per key in the last `window_s` seconds, shared in PostgreSQL."""

    PRUNE_EVERY = 1000
    LEASE_S = 1.0  # default lifetime of a lease
    MAX_LEASES = 10_000

    def __init__(
        self,
        engine: Engine,
        bucket: str,
        limit: int,
        window_s: float,
        *,
        lease: int = 1,
        lease_s: float = LEASE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.bucket = bucket
        self.limit = limit
        self.window_s = window_s
        self.lease = max(1, min(lease, limit))
        self.lease_s = lease_s
        self.clock = clock
        self._hits = 0
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[int, float]] = {}  # key -> (slots left, usable until)

    def take_leased(self, key: str) -> bool:
        """Admit `key` from a slot this process leased moments ago (no database)."""
        with self._lock:
            left, until = self._leases.pop(key, (0, 0.0))
            if left <= 0 or self.clock() >= until:
                return False
            if left > 1:
                self._leases[key] = (left - 1, until)
            return True

    def hit_in_memory(self, key: str) -> tuple[bool, int | None]:
        """(True, None) when a leased slot admits `key` (no I/O, fit for the event loop);
        (False, None) when only `hit` (a database round trip) can answer."""
        return self.lease > 1 and self.take_leased(key), None

    def _connect(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def hit(self, key: str) -> int | None:
        """Record an event unless over the limit; the wait in seconds when over it."""
        if self.lease > 1 and self.take_leased(key):
            return None
        params = {"bucket": self.bucket, "client": key[:255], "window": self.window_s}
        with self._connect() as conn:
            leased_at = self.clock()
            granted, wait = conn.execute(
                _HIT, {**params, "limit": self.limit, "n": self.lease}
            ).one()
            if self._due_for_pruning():
                conn.execute(_PRUNE, params)
        if granted > 1:
            with self._lock:
                if len(self._leases) >= self.MAX_LEASES:
                    self._leases.clear()  # dropped slots stay counted: only ever stricter
                self._leases[key] = (granted - 1, leased_at + self.lease_s)
        return None if granted else max(1, math.ceil(wait))

    def _due_for_pruning(self) -> bool:
        with self._lock:
            self._hits += 1
            return self._hits % self.PRUNE_EVERY == 0

    def record(self, key: str) -> None:
        # callers record only after retry_after said "under the limit", as SlidingWindow's do
        self.hit(key)

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait if `key` is over its limit now, else None (records nothing)."""
        params = {"bucket": self.bucket, "client": key[:255], "window": self.window_s}
        with self._connect() as conn:
            count, wait = conn.execute(_PEEK, params).one()
        if count < self.limit:
            return None
        return max(1, math.ceil(wait))
