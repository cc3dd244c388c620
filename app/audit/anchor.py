"""Anchors: signed statements "the trail had N events and its head was this hash".

The hash chain shows a row changed or removed in the middle, but whoever owns the
database can delete the newest rows (or rewrite the chain and recompute every hash) and
the chain still holds. An anchor, signed with a key the database does not hold and
printed where the owner cannot reach (the monthly bulletin, the anchoring host's
journal), pins the chain's prefix: verification fails if the event at position N is not
the anchored one, or if there are fewer than N events.

One anchor is one line of text; the line is what is signed (minus its signature), what
is stored in `audit_anchor`, and what is printed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.keys import KeyRing
from app.errors import InvalidInput
from app.models.audit import AuditAnchor

PREFIX = "vigia-ancla-1"
GENESIS = "0" * 64
_LINE = re.compile(
    rf"^{PREFIX} fecha=(?P<at>\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ) eventos=(?P<count>\d{{1,18}}) "
    r"ultimo=(?P<head>\d{1,19}) hash=(?P<hash>[0-9a-f]{64}) firma=(?P<sig>[A-Za-z0-9_-]{86})$"
)


@dataclass(frozen=True)
class Anchor:
    at: datetime
    count: int
    head_id: int  # 0: the trail was empty
    head_hash: str
    signature: str

    @property
    def signed_text(self) -> str:
        return (
            f"{PREFIX} fecha={self.at.strftime('%Y-%m-%dT%H:%M:%SZ')} eventos={self.count} "
            f"ultimo={self.head_id} hash={self.head_hash}"
        )

    @property
    def line(self) -> str:
        return f"{self.signed_text} firma={self.signature}"

    @property
    def label(self) -> str:
        return f"{self.at.strftime('%Y-%m-%d %H:%M')} UTC ({self.count} eventos)"


def parse(line: str, *, field: str = "anchor") -> Anchor:
    """Whitespace is normalized: a line copied from a PDF comes back broken over lines."""
    line = " ".join(line.split())
    match = _LINE.match(line)
    if match is None:
        raise InvalidInput(
            f"«{line[:120]}» no es una línea de ancla de la bitácora.",
            errors=[{"field": field, "reason": f"se espera «{PREFIX} fecha=… firma=…»"}],
        )
    return Anchor(
        at=datetime.strptime(match["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        count=int(match["count"]),
        head_id=int(match["head"]),
        head_hash=match["hash"],
        signature=match["sig"],
    )


_HEAD = text(
    "SELECT (SELECT count(*) FROM audit_event) AS events, id, hash"
    " FROM audit_event ORDER BY id DESC LIMIT 1"
)


def require_signer(keys: KeyRing) -> None:
    if keys.signer is None:
        raise InvalidInput(
            "Falta la clave de anclaje: defina VIGIA_AUDIT_ANCHOR_KEY_FILE.",
            errors=[{"field": "VIGIA_AUDIT_ANCHOR_KEY_FILE", "reason": "obligatoria"}],
        )


def create(session: Session, keys: KeyRing, *, now: datetime | None = None) -> Anchor:
    """Sign the current head (one statement: count and head from one snapshot; ids are
    assigned under a lock held to commit, so the committed rows are always a prefix).
    """
    require_signer(keys)
    head = session.execute(_HEAD).one_or_none()
    count, head_id, head_hash = (head.events, head.id, head.hash) if head else (0, 0, GENESIS)
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    unsigned = Anchor(at, count, head_id, head_hash, "")
    signature = keys.sign(unsigned.signed_text.encode())
    assert signature is not None  # keys.signer is set
    anchor = Anchor(at, count, head_id, head_hash, signature)
    session.add(
        AuditAnchor(
            created_at=at,
            event_count=count,
            head_id=head_id or None,
            head_hash=head_hash,
            line=anchor.line,
        )
    )
    session.flush()
    return anchor


def read_journal(path: Path | None) -> list[str]:
    """The anchors this host signed before (one line each); none if there is no journal."""
    if path is None or not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line.strip()]


def append_journal(path: Path | None, anchor: Anchor) -> None:
    """Call after the anchor's transaction committed: a journal line the database never
    got would later read as a cut tail.
    """
    if path is None:
        return
    with path.open("a") as handle:
        handle.write(anchor.line + "\n")


def latest(session: Session, *, until: datetime) -> Anchor | None:
    """The newest stored anchor made at or before `until` (what a bulletin prints)."""
    line = session.scalar(
        select(AuditAnchor.line)
        .where(AuditAnchor.created_at <= until)
        .order_by(AuditAnchor.created_at.desc(), AuditAnchor.id.desc())
        .limit(1)
    )
    return None if line is None else parse(line)


class Expectations:
    """What the anchors require of the chain, checked as verification walks it."""

    def __init__(self, session: Session, keys: KeyRing, printed: Iterable[str]) -> None:
        self.checked = 0
        self.problem: str | None = None
        self.notes: list[str] = []
        self._by_count: dict[int, list[Anchor]] = defaultdict(list)
        anchors = [parse(line) for line in printed]
        for line in session.scalars(select(AuditAnchor.line).order_by(AuditAnchor.id)):
            try:
                anchors.append(parse(line))
            except InvalidInput:
                self.problem = f"un ancla guardada es ilegible: «{line[:80]}»"
                return
        anchors = list({a.line: a for a in anchors}.values())  # printed and stored: once
        if not keys.verifiers and anchors:
            self.notes.append(
                "firmas de anclas sin verificar: falta VIGIA_AUDIT_ANCHOR_PUBLIC_KEYS"
            )
        for anchor in anchors:
            if keys.verifiers and not keys.verifies(anchor.signed_text.encode(), anchor.signature):
                self.problem = f"el ancla del {anchor.label} no tiene una firma válida"
                return
            if anchor.count == 0:
                self.checked += 1
            else:
                self._by_count[anchor.count].append(anchor)

    def at(self, position: int, event_id: int, event_hash: str) -> str | None:
        for anchor in self._by_count.pop(position, []):
            if (anchor.head_id, anchor.head_hash) != (event_id, event_hash):
                return (
                    f"el evento n.º {position} no es el del ancla del {anchor.label}: "
                    "la bitácora fue reescrita hasta ese punto"
                )
            self.checked += 1
        return None

    def beyond(self, total: int) -> str | None:
        """After the walk: an anchor past the end means rows were cut off the tail."""
        if not self._by_count:
            return None
        anchor = max((a for group in self._by_count.values() for a in group), key=lambda a: a.count)
        return (
            f"faltan eventos al final: el ancla del {anchor.label} cubre {anchor.count} "
            f"eventos (último {anchor.head_id}) y la bitácora tiene {total}"
        )
