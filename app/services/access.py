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
"""

from __future__ import annotations

from sqlalchemy import String, false, true
from sqlalchemy.sql.elements import ColumnElement

from app.models import Complaint, RiskFactorReport, Role
from app.services.api_keys import Caller

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
