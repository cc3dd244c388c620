"""Rate limits kept in PostgreSQL, so every worker and every restart sees the same budget.

Same semantics as the in-memory `SlidingWindow` (app/api/limits.py), which stays as the
reference the tests inject: at most `limit` events per client in the last `window_s`
seconds; past it, the wait until the oldest event leaves the window (Retry-After).

One row per (bucket, client) holds the instants of its recent events. A hit is one
autocommit upsert: the row lock serialises concurrent hits on one client across workers,
so the limit is exact, and the database clock is the only clock. Idle rows are pruned by
the process every PRUNE_EVERY hits.
"""

from __future__ import annotations

import math
import threading

from sqlalchemy import Connection, Engine, text

# The events still in the window, oldest first, plus this one if the limit allows it.
# `admitted`: the last element is this statement's own instant.
_HIT = text(
    """
    INSERT INTO rate_limit_window AS w (bucket, client, hits)
    VALUES (:bucket, :client, ARRAY[statement_timestamp()])
    ON CONFLICT (bucket, client) DO UPDATE SET hits = (
        SELECT CASE WHEN count(*) < :limit
                    THEN coalesce(array_agg(h ORDER BY h), '{}') || statement_timestamp()
                    ELSE array_agg(h ORDER BY h) END
        FROM unnest(w.hits) AS h
        WHERE h > statement_timestamp() - make_interval(secs => :window)
    )
    RETURNING hits[cardinality(hits)] = statement_timestamp() AS admitted,
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

    def __init__(self, engine: Engine, bucket: str, limit: int, window_s: float) -> None:
        self.engine = engine
        self.bucket = bucket
        self.limit = limit
        self.window_s = window_s
        self._hits = 0
        self._lock = threading.Lock()

    def _connect(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def hit(self, key: str) -> int | None:
        """Record an event unless over the limit; the wait in seconds when over it."""
        params = {"bucket": self.bucket, "client": key[:255], "window": self.window_s}
        with self._connect() as conn:
            admitted, wait = conn.execute(_HIT, {**params, "limit": self.limit}).one()
            if self._due_for_pruning():
                conn.execute(_PRUNE, params)
        return None if admitted else max(1, math.ceil(wait))

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
