"""Admission control: each worker runs a bounded number of requests, a few more wait briefly,
and the rest get an immediate 503 with Retry-After (issue #13).

Without it, a burst beyond the connection pool turned into hundreds of 500s ("QueuePool limit
reached"), requests that hung until their clients gave up, and rows committed for clients
that were gone. Here the turn is taken before any database work, so the pool is never asked
for more connections than there are turns; a request waits at most `wait_s` for one.

Each admitted request gets a `ClientWatch` that reads the client's messages ahead of the
app: a client that disconnects while queued is dropped before it runs, and one that leaves
mid-way is seen by the session dependency, which then rolls back instead of committing.

Pure ASGI (see app/api/request_id.py for why not BaseHTTPMiddleware); asyncio only, as
uvicorn runs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.limits import send_problem
from app.errors import ServiceBusy

log = logging.getLogger("vigia")

# Answered outside the queue: monitoring must tell "busy" from "dead", and static files
# never touch the database.
EXEMPT_PATHS = ("/health", "/static/")
WATCH_STATE = "client_watch"
DISCONNECT: Message = {"type": "http.disconnect"}


class ClientWatch:
    """Pumps the client's messages into a one-slot buffer and notes a disconnect.

    `gone` is a plain attribute so the session dependency, running in a worker thread,
    can read it without touching the event loop. The buffer holds one message, so a large
    upload is not read ahead: a client that leaves in the middle of one is noticed once the
    app reads on.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._buffer: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)
        self.gone = False
        self.left = asyncio.Event()
        self._task = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        while not self.gone:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                self.left.set()
            await self._buffer.put(message)  # waits while the app has not read the last one

    async def receive(self) -> Message:
        if self.gone and self._buffer.empty():
            return DISCONNECT
        return await self._buffer.get()

    def close(self) -> None:
        self._task.cancel()


class Gate:
    """`concurrency` turns and a FIFO queue of at most `queue` waiters, for one worker."""

    def __init__(self, *, concurrency: int, queue: int, wait_s: float) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.wait_s = wait_s
        self.running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_enter(self) -> bool:
        if self.running < self.concurrency and not self._waiters:
            self.running += 1
            return True
        return False

    async def wait_turn(self, watch: ClientWatch) -> bool:
        """Queue for a turn; False if the wait ran out or the client left first."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        leaving: asyncio.Future[Any] = asyncio.ensure_future(watch.left.wait())
        either: set[asyncio.Future[Any]] = {turn, leaving}
        try:
            await asyncio.wait(either, timeout=self.wait_s, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled (shutdown) just as a turn was handed over: return it
            if turn.done() and not turn.cancelled():
                self.leave()
            raise
        finally:
            leaving.cancel()
            if not turn.done():
                turn.cancel()
                self._waiters.remove(turn)
        if turn.cancelled():
            return False
        if watch.gone:  # handed a turn, but nobody is there to use it
            self.leave()
            return False
        return True

    def leave(self) -> None:
        """Hand the turn to the oldest waiter, or give it back."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.running -= 1


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, gate: Gate, retry_after_s: int) -> None:
        self.app = app
        self.gate = gate
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        gate = self.gate
        if gate.try_enter():
            await self._run(scope, ClientWatch(receive), send)
            return
        if gate.waiting >= gate.queue:
            await send_problem(scope, send, self._busy("la cola de espera está llena"))
            return
        watch = ClientWatch(receive)
        if not await gate.wait_turn(watch):
            watch.close()
            if watch.gone:
                log.info("cliente desconectado en la cola: %s %s", scope["method"], scope["path"])
            else:
                await send_problem(scope, send, self._busy("no hubo turno a tiempo"))
            return
        await self._run(scope, watch, send)

    async def _run(self, scope: Scope, watch: ClientWatch, send: Send) -> None:
        scope.setdefault("state", {})[WATCH_STATE] = watch
        try:
            await self.app(scope, watch.receive, send)
        finally:
            watch.close()
            self.gate.leave()

    def _busy(self, why: str) -> ServiceBusy:
        return ServiceBusy(why, retry_after=self.retry_after_s)


def client_gone(scope: Scope) -> bool:
    """True once the request's client has disconnected (False outside admission)."""
    watch = (scope.get("state") or {}).get(WATCH_STATE)
    return bool(watch is not None and watch.gone)
