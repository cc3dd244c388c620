"""The plan's goals as data (`data/plan/*.yaml`) and their indicators for a period.

Each indicator is computed from Vigía's data when the file names an `indicator_key`
(app/reports/indicators.py: of the comuna, or of one goal's prevention activities), or taken
from the values entered by hand (`vigia report set-indicator`), per comuna and year. Every
goal of the plan has at least one indicator, or says why it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.api.params import CutCode
from app.errors import Conflict, InvalidInput, NotFound
from app.migrations import REPO_ROOT
from app.models import PlanIndicatorValue
from app.reports.indicators import GOAL_REGISTRY, REGISTRY
from app.reports.period import Period

DEFAULT_PLAN = REPO_ROOT / "data" / "plan" / "lanco-2024.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanIndicator(_Strict):
    code: str = Field(pattern=r"^[A-Z0-9.]+\.[a-z]$")
    indicator: str
    unit: str
    target: float
    direction: Literal["at_least", "at_most"] = "at_least"
    means_of_verification: str
    indicator_key: str | None = None
    manual_reason: str | None = None  # why Vigía cannot compute it (no indicator_key)

    @model_validator(mode="after")
    def _known_key(self) -> PlanIndicator:
        if self.indicator_key is not None:
            if self.indicator_key not in REGISTRY and self.indicator_key not in GOAL_REGISTRY:
                raise ValueError(f"indicator_key desconocido: {self.indicator_key}")
            if self.manual_reason:
                raise ValueError("un indicador calculado no lleva manual_reason")
        return self


class PlanGoal(_Strict):
    code: str = Field(pattern=r"^[IV]+\.\d+\.M\d+$")
    goal: str
    indicators: list[PlanIndicator] = Field(default_factory=list)
    no_indicator_reason: str | None = None

    @model_validator(mode="after")
    def _measured(self) -> PlanGoal:
        if not self.indicators and not self.no_indicator_reason:
            raise ValueError(
                f"la meta {self.code} no tiene indicadores: agregue uno o no_indicator_reason"
            )
        return self


class PlanObjective(_Strict):
    code: str
    ambito: str
    objective: str
    goals: list[PlanGoal]


class Plan(_Strict):
    plan: str
    comuna: CutCode
    version: str
    proposed: bool = False
    objectives: list[PlanObjective]

    def indicators(self) -> dict[str, PlanIndicator]:
        return {i.code: i for o in self.objectives for g in o.goals for i in g.indicators}

    def goals(self) -> dict[str, PlanGoal]:
        return {g.code: g for o in self.objectives for g in o.goals}


def load_plan(path: Path = DEFAULT_PLAN) -> Plan:
    """Parse and validate a plan file; problems name the offending entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        plan = Plan.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"No se pudo leer el archivo del plan {path.name}: {exc}") from exc
    except ValidationError as exc:
        raise InvalidInput(
            f"El archivo del plan {path.name} no es válido.",
            errors=[
                {
                    "field": ".".join(str(p) for p in e["loc"]),
                    "location": "file",
                    "reason": e["msg"],
                }
                for e in exc.errors()
            ],
        ) from exc
    codes = [i.code for o in plan.objectives for g in o.goals for i in g.indicators]
    if len(codes) != len(set(codes)):
        raise InvalidInput(f"El archivo del plan {path.name} repite códigos de indicador.")
    return plan


@lru_cache
def default_plan() -> Plan:
    return load_plan(DEFAULT_PLAN)


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorResult:
    objective: PlanObjective
    goal: PlanGoal
    indicator: PlanIndicator
    value: float | None
    source: str  # "calculado" | "manual" | "sin dato"
    note: str | None
    elapsed: float = 1.0  # share of the year the period covers (a count target is pro-rated)

    @property
    def status(self) -> str:
        if self.value is None:
            return "sin dato"
        met = (
            self.value >= self.indicator.target
            if self.indicator.direction == "at_least"
            else self.value <= self.indicator.target
        )
        return "cumplida" if met else "pendiente"

    @property
    def light(self) -> str:
        """Traffic light: verde (met), amarillo (on track for a count target pro-rated to the
        months elapsed, or within 10 points of a percentage), rojo (behind), gris (no data).
        """
        if self.value is None:
            return "gris"
        if self.status == "cumplida":
            return "verde"
        target = self.indicator.target
        if self.indicator.direction == "at_most":
            return "amarillo" if self.value <= target * 1.2 else "rojo"
        if self.indicator.unit == "porcentaje":
            return "amarillo" if self.value >= target - 10 else "rojo"
        return "amarillo" if self.value >= target * self.elapsed else "rojo"

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "—"
        text = f"{self.value:,.1f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")
        return text + (" %" if self.indicator.unit == "porcentaje" else "")

    @property
    def target_text(self) -> str:
        sign = "≥" if self.indicator.direction == "at_least" else "≤"
        unit = " %" if self.indicator.unit == "porcentaje" else ""
        return f"{sign} {self.indicator.target:g}{unit}"


def hand_values(session: Session, comuna: str, year: int) -> dict[str, PlanIndicatorValue]:
    rows = session.scalars(
        select(PlanIndicatorValue).where(
            PlanIndicatorValue.comuna_code == comuna, PlanIndicatorValue.period == str(year)
        )
    )
    return {row.indicator_code: row for row in rows}


def evaluate_plan(
    session: Session, plan: Plan, comuna: str, period: Period, *, as_of: datetime
) -> list[IndicatorResult]:
    """Every indicator of the plan for `period` (a year or year-to-date)."""
    manual = hand_values(session, comuna, period.last.year)
    elapsed = min(1.0, (period.last.month - period.first.month + 1) / 12)
    results = []
    for objective in plan.objectives:
        for goal in objective.goals:
            for item in goal.indicators:
                if item.indicator_key:
                    value = _compute(session, item.indicator_key, comuna, goal.code, period, as_of)
                    source, note = ("calculado" if value is not None else "sin dato"), None
                elif item.code in manual:
                    entry = manual[item.code]
                    value, source, note = float(entry.value), "manual", entry.note
                else:
                    value, source, note = None, "sin dato", None
                results.append(IndicatorResult(objective, goal, item, value, source, note, elapsed))
    return results


def _compute(
    session: Session, key: str, comuna: str, goal: str, period: Period, as_of: datetime
) -> float | None:
    if key in GOAL_REGISTRY:
        return GOAL_REGISTRY[key](session, comuna, goal, period, as_of)
    return REGISTRY[key](session, comuna, period, as_of)


def set_indicator(
    session: Session,
    plan: Plan,
    *,
    comuna: str,
    code: str,
    year: int,
    value: Decimal,
    note: str | None,
    entered_by: str,
) -> PlanIndicatorValue:
    """Upsert a hand-entered value (one per comuna, indicator and year)."""
    indicator = plan.indicators().get(code)
    if indicator is None:
        raise NotFound(
            f"El plan no tiene el indicador {code}.",
            code="indicador_no_encontrado",
            errors=[{"field": "code", "reason": "no está en el archivo del plan"}],
        )
    if indicator.indicator_key:
        raise Conflict(
            f"El indicador {code} se calcula desde los datos de Vigía; no se ingresa a mano.",
            code="indicador_calculado",
        )
    stmt = (
        insert(PlanIndicatorValue)
        .values(
            comuna_code=comuna,
            indicator_code=code,
            period=str(year),
            value=value,
            note=note,
            entered_by=entered_by,
        )
        .on_conflict_do_update(
            index_elements=["comuna_code", "indicator_code", "period"],
            set_={
                "value": value,
                "note": note,
                "entered_by": entered_by,
                "entered_at": func.now(),
            },
        )
        .returning(PlanIndicatorValue.id)
    )
    row_id = session.scalar(stmt)
    session.flush()
    entry = session.get(PlanIndicatorValue, row_id, populate_existing=True)
    assert entry is not None
    return entry
