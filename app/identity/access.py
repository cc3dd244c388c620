"""Who may see what, as query predicates applied by every service that reads or writes.

One module answers "which rows does this caller reach?" for complaints and risk factors, so
lists, single reads, statistics and writes cannot disagree. A row outside the caller's scope
is treated as if it did not exist (404, never a 403 that would confirm it exists).

| role    | complaints                                   | risk factors                  |
|---------|----------------------------------------------|-------------------------------|
| police  | its institution's (source = institution)     | its institution's             |
| unit    | none                                         | those routed to the unit      |
| planner | all, exact location, no case/officer ids     | all                           |
| admin   | all                                          | all                           |
| public  | none (aggregated public outputs only)        | none (generalised feed only)  |

Context layers (app/context/) belong to no institution: every key reads every layer type,
and the public reads the types the catalog marks `public` (bus stops, schools; not the
abandoned buildings or drug-selling points the police report). A type the caller may not
read is answered exactly like a type that does not exist.

Every surface that reads these tables takes its row scope from `ROW_SCOPES` (the OGC
collections and tiles find it from the tables their SELECT reads, so a new collection cannot
forget it). Reads of sensitive rows are audited through `audit_read`, once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import String, false, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.audit import trail as audit
from app.identity.caller import Caller
from app.models import Complaint, ContextLayerType, RiskFactorReport, Role

RowScope = Callable[[Caller], ColumnElement[bool]]

# What planners never receive about a complaint: the institution's case number and free text
# that may name people (the address field is typed by officers). Exact points they keep.
PLANNER_HIDDEN_COMPLAINT_FIELDS = ("external_ref", "address", "loaded_by")


def complaint_scope(caller: Caller) -> ColumnElement[bool]:
    """Complaints the caller may read or change."""
    if caller.role in (Role.ADMIN, Role.PLANNER):
        return true()
    if caller.role == Role.POLICE and caller.institution:
        return Complaint.source.cast(String) == caller.institution
    return false()


def complaint_sources(caller: Caller) -> frozenset[str] | None:
    """Which institutions' complaints the caller may load (None = any, for admins)."""
    if caller.role == Role.ADMIN:
        return None
    if caller.role == Role.POLICE and caller.institution:
        return frozenset({caller.institution})
    return frozenset()


def sees_complaint_identifiers(caller: Caller) -> bool:
    return caller.role in (Role.ADMIN, Role.POLICE)


def risk_factor_scope(caller: Caller) -> ColumnElement[bool]:
    """Reports the caller may see. The public sees none here (it has its own feed)."""
    R = RiskFactorReport
    if caller.role in (Role.ADMIN, Role.PLANNER):
        return true()
    if caller.role == Role.UNIT and caller.unit:
        return R.responsible_unit == caller.unit
    if caller.role == Role.POLICE and caller.institution:
        return R.institution == caller.institution
    return false()


def context_type_scope(caller: Caller) -> ColumnElement[bool]:
    """Context layer types the caller may read: all with a key, the public ones without."""
    if caller.role is not None:
        return true()
    return ContextLayerType.public.is_(True)


# Every table whose rows belong to an institution or a unit, with the rule that narrows it.
# Keyed by table name: the OGC layer looks each table of a collection's SELECT up here.
ROW_SCOPES: dict[str, RowScope] = {
    Complaint.__tablename__: complaint_scope,
    RiskFactorReport.__tablename__: risk_factor_scope,
}


def scope_key(caller: Caller) -> Caller:
    """The part of a caller that row scope depends on: role, institution and unit.

    Statements built for one scope are cached under this key, so two keys of the same
    institution share them and no statement is ever reused for another scope. Scope
    functions are called with this reduced caller, so they cannot depend on anything else.
    """
    return Caller(role=caller.role, institution=caller.institution, unit=caller.unit)


# --- audited reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditedRead:
    """Rows whose reading leaves an audit event: one event per request, with the count."""

    action: str
    object_type: str
    flag: str  # the column (of an OGC collection's SELECT) that marks an audited row


# Complaints of sensitive categories (sexual offences, VIF, children, drugs): every read of
# one through any surface (REST list, OGC items and single items, tiles) is audited.
SENSITIVE_COMPLAINTS = AuditedRead(
    action="complaint.read_sensitive", object_type="complaint", flag="sensitive"
)
MAX_AUDITED_IDS = 200  # ids kept in the event's detail; `count` is always the full number


def audit_read(
    session: Session,
    read: AuditedRead,
    ids: Sequence[object],
    *,
    count: int | None = None,
    object_id: object = None,
    **detail: object,
) -> None:
    """Record that this request read `count` audited rows (default: len(ids)); none, no event.

    `ids` may be a prefix of what was read (aggregated tiles carry no ids at all). For
    reading requests: the event is written as a read's (`audit.record(read_only=True)`).
    """
    total = len(ids) if count is None else count
    if not total:
        return
    audit.record(
        session,
        read.action,
        read.object_type,
        object_id,
        read_only=True,
        detail={"count": total, "ids": [str(i) for i in ids[:MAX_AUDITED_IDS]], **detail},
    )
