"""Compute a risk-terrain model from the database and store it (flush, never commit).

Bad input is refused before anything is written: an unknown category or layer, an empty
period, a grid over the configured cap (`VIGIA_RTM_MAX_CELLS`). The statistics are those of
`app.scoring.risk_terrain`; what is stored (`store.py`) is enough to recompute them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import FieldProblem, InvalidInput
from app.models import ContextLayerType, CrimeCategory, RiskFactorType, RiskTerrainSnapshot
from app.rankings.compute import default_period_end, period_for
from app.rankings.inputs import boundaries
from app.risk_terrain.features import load_points, sql_features
from app.risk_terrain.grid import CellGrid, build_grid, cell_counts
from app.risk_terrain.store import store_snapshot
from app.scoring.grid_hotspots import Grid, grid_gi_star, kde_surface
from app.scoring.near_repeat import DEFAULT_CRS
from app.scoring.pai import pai_pei
from app.scoring.risk_terrain import DEFAULT_BANDS_M, RiskTerrain, fit_rtm
from app.scoring.snapshot import Period
from app.settings import get_risk_terrain_settings
from app.territory.service import resolve_comuna
from app.timezone import chile_today

METHOD_VERSION = 1
MIN_CELL_M, MAX_CELL_M = 10.0, 500.0
MAX_BANDS = 5
STRATA = ("micro_barrio", "barrio", "ninguno")


def _invalid(field: str, reason: str) -> InvalidInput:
    item = FieldProblem(field=field, reason=reason, location="body")
    return InvalidInput(f"Dato inválido: {field} ({reason}).", errors=[item])


@dataclass(frozen=True)
class Request:
    comuna: str | None = None
    period_end: date | None = None
    months: int = 12
    categories: Sequence[str] | None = None  # None: the DMCS categories
    layers: Sequence[str] | None = None  # None: every factor and context type with data
    cell_m: float = 50.0
    bands_m: Sequence[float] = DEFAULT_BANDS_M
    seed: int = 1
    validation_months: int = 0  # > 0: PAI/PEI on the months after the period
    # fixed effects: micro_barrio (the finest unit), barrio, or ninguno; a regional comuna's
    # hundreds of micro-barrios make every GLM of the fit 45 s (37k cells x 200 columns)
    strata: str = "micro_barrio"


@dataclass(frozen=True)
class Layers:
    factors: list[str]
    context: list[str]

    @property
    def names(self) -> list[str]:
        return [*self.factors, *self.context]


def _check(request: Request, today: date) -> None:
    if not 1 <= request.months <= 60:
        raise _invalid("months", "entre 1 y 60 meses")
    if request.period_end is not None and request.period_end > today:
        raise _invalid("period_end", "el período no puede terminar en el futuro")
    if not MIN_CELL_M <= request.cell_m <= MAX_CELL_M:
        raise _invalid("cell_m", f"entre {MIN_CELL_M:g} y {MAX_CELL_M:g} metros")
    bands = list(request.bands_m)
    if not 1 <= len(bands) <= MAX_BANDS or len(set(bands)) != len(bands):
        raise _invalid("bands_m", f"entre 1 y {MAX_BANDS} bandas distintas")
    if any(not np.isfinite(b) or not request.cell_m <= b <= 2000 for b in bands):
        raise _invalid("bands_m", "cada banda entre el lado de la celda y 2000 m")
    if request.strata not in STRATA:
        raise _invalid("strata", f"use {', '.join(STRATA)}")
    if not 0 <= request.validation_months <= 24:
        raise _invalid("validation_months", "entre 0 y 24 meses")


def resolve_categories(session: Session, wanted: Sequence[str] | None) -> list[str]:
    if wanted is None:
        codes = session.scalars(
            select(CrimeCategory.code).where(CrimeCategory.dmcs).order_by(CrimeCategory.code)
        ).all()
        return list(codes)
    known = set(session.scalars(select(CrimeCategory.code)).all())
    unknown = sorted(set(wanted) - known)
    if not wanted or unknown:
        raise _invalid("categories", f"categorías desconocidas: {', '.join(unknown) or '(vacía)'}")
    return sorted(set(wanted))


def resolve_layers(session: Session, wanted: Sequence[str] | None) -> Layers:
    factor_types = set(session.scalars(select(RiskFactorType.code)).all())
    context_types = set(session.scalars(select(ContextLayerType.code)).all())
    if wanted is None:
        return Layers(sorted(factor_types), sorted(context_types - factor_types))
    unknown = sorted(set(wanted) - factor_types - context_types)
    if not wanted or unknown:
        known = ", ".join(sorted(factor_types | context_types))
        raise _invalid(
            "layers", f"tipos de capa desconocidos: {', '.join(unknown) or '(vacía)'}; use {known}"
        )
    chosen = sorted(set(wanted))
    return Layers(
        [c for c in chosen if c in factor_types],
        [c for c in chosen if c not in factor_types],
    )


def pure_grid(grid: CellGrid) -> Grid:
    """The same cells as a pure `Grid` (for Gi* and the KDE)."""
    import shapely

    i0, j0 = int(grid.i.min()), int(grid.j.min())
    return Grid(
        crs=DEFAULT_CRS,
        cell_m=grid.cell_m,
        x0=i0 * grid.cell_m,
        y0=j0 * grid.cell_m,
        col=grid.i - i0,
        row=grid.j - j0,
        settled=shapely.Point(),
    )


def validation(
    model: RiskTerrain, training: np.ndarray, later: np.ndarray, grid: Grid
) -> pd.DataFrame:
    """PAI/PEI of the terrain's top cells on the later period, beside those of a KDE
    hot-spot map of the training period (the comparison RTM papers make)."""
    area = grid.cell_m**2
    rtm = pai_pei(model.score, later, area).assign(mapa="terreno_de_riesgo")
    centres = grid.centres
    cells = np.repeat(np.arange(grid.size), training)
    kde = kde_surface(centres[cells, 0], centres[cells, 1], grid)  # events at their cell's centre
    hot = pai_pei(kde, later, area).assign(mapa="densidad_kernel")
    return pd.concat([rtm, hot], ignore_index=True)


def _period_after(period: Period, months: int) -> Period:
    """The `months` months that follow the period (whole months when it ends on one)."""
    index = period.end.year * 12 + period.end.month - 1 + months
    year, month = divmod(index, 12)
    return period_for(date(year, month + 1, period.end.day) - timedelta(days=1), months)


def compute_snapshot(
    session: Session,
    request: Request,
    *,
    computed_by: str,
    now: datetime | None = None,
) -> RiskTerrainSnapshot:
    """Validate, build the grid and features in PostGIS, fit, and store; on bad input raise
    a domain error (nothing written)."""
    now = now or datetime.now(UTC)
    today = chile_today(now)
    _check(request, today)
    comuna = resolve_comuna(session, request.comuna).code
    categories = resolve_categories(session, request.categories)
    layers = resolve_layers(session, request.layers)
    period = period_for(request.period_end or default_period_end(now), request.months)
    later_period = None
    if request.validation_months:
        later_period = _period_after(period, request.validation_months)
        if later_period.end - timedelta(days=1) > today:
            raise _invalid("validation_months", "el período de validación termina en el futuro")
    limits = boundaries(period)
    cap = get_risk_terrain_settings().max_cells
    grid = build_grid(
        session, comuna=comuna, cell_m=request.cell_m, max_cells=cap, strata=request.strata
    )
    counts = cell_counts(
        session,
        grid,
        comuna=comuna,
        categories=categories,
        start=limits["start"],
        end=limits["end"],
    )
    if counts.sum() == 0:
        raise _invalid("period_end", "no hay denuncias de esas categorías en el período")
    points = load_points(
        session,
        comuna=comuna,
        factor_layers=layers.factors,
        context_layers=layers.context,
        end=limits["end"],
    )
    features = sql_features(session, grid, layers.names, request.bands_m)
    model = fit_rtm(counts, features, request.seed, exposure=grid.residents, strata=grid.strata)
    cells = pure_grid(grid)
    hot = grid_gi_star(counts, cells).hot
    later = None
    checks = None
    if later_period is not None:
        later_limits = boundaries(later_period)
        later = cell_counts(
            session,
            grid,
            comuna=comuna,
            categories=categories,
            start=later_limits["start"],
            end=later_limits["end"],
        )
        checks = validation(model, counts, later, cells)
    snapshot = store_snapshot(
        session,
        comuna=comuna,
        period=period,
        categories=categories,
        request=request,
        grid=grid,
        counts=counts,
        points=points,
        layers=layers,
        model=model,
        hot=hot,
        later=later,
        validation=checks,
        method_version=METHOD_VERSION,
        computed_by=computed_by,
        computed_at=now,
    )
    audit.record(
        session,
        "risk_terrain.compute",
        "risk_terrain",
        snapshot.id,
        detail={"comuna": comuna, "cells": grid.size, "factors": len(model.table)},
    )
    return snapshot
