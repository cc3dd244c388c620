"""Ranking of critical barrios and micro-barrios (issue #5): pure statistics.

No FastAPI, no SQLAlchemy: the database layer builds a `UnitInputs` table per unit and
period, `compute_ranking` returns a `Ranking` with every variable, weight, contribution,
score, class and rank, and the fingerprints that make it reproducible. The formulas are in
docs/metodologia.md.

The names load on first use (PEP 562): the plain-language texts of the variables
(`VARIABLES`, in `profiles`) come without esda, pandas or scipy, so the bulletin and the
API's wording read them without seconds of import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.lazy import lazy_exports

if TYPE_CHECKING:
    from app.scoring.errors import ProfileError, ScoringInputError
    from app.scoring.hotspots import HotSpotParams, HotSpots, getis_ord_star
    from app.scoring.inputs import (
        DRUG_CONSUMPTION_CODES,
        DRUG_TRAFFICKING_CODES,
        REQUIRED_COLUMNS,
        UnitInputs,
        contiguity_weights,
        load_external_csv,
        risk_factor_load,
    )
    from app.scoring.profiles import (
        BARRIO_PROFILE,
        BARRIO_PROFILE_V1,
        DEFAULT_PROFILES,
        MICRO_BARRIO_PROFILE,
        MICRO_BARRIO_PROFILE_V1,
        VARIABLES,
        Classifier,
        Normalisation,
        ProfileCatalog,
        ScoringProfile,
        Smoothing,
    )
    from app.scoring.smoothing import SmoothedRates, empirical_bayes
    from app.scoring.snapshot import Period, Ranking, compute_ranking

_HOME = {
    "ProfileError": "app.scoring.errors",
    "ScoringInputError": "app.scoring.errors",
    "HotSpotParams": "app.scoring.hotspots",
    "HotSpots": "app.scoring.hotspots",
    "getis_ord_star": "app.scoring.hotspots",
    "DRUG_CONSUMPTION_CODES": "app.scoring.inputs",
    "DRUG_TRAFFICKING_CODES": "app.scoring.inputs",
    "REQUIRED_COLUMNS": "app.scoring.inputs",
    "UnitInputs": "app.scoring.inputs",
    "contiguity_weights": "app.scoring.inputs",
    "load_external_csv": "app.scoring.inputs",
    "risk_factor_load": "app.scoring.inputs",
    "BARRIO_PROFILE": "app.scoring.profiles",
    "BARRIO_PROFILE_V1": "app.scoring.profiles",
    "DEFAULT_PROFILES": "app.scoring.profiles",
    "MICRO_BARRIO_PROFILE": "app.scoring.profiles",
    "MICRO_BARRIO_PROFILE_V1": "app.scoring.profiles",
    "VARIABLES": "app.scoring.profiles",
    "Classifier": "app.scoring.profiles",
    "Normalisation": "app.scoring.profiles",
    "ProfileCatalog": "app.scoring.profiles",
    "ScoringProfile": "app.scoring.profiles",
    "Smoothing": "app.scoring.profiles",
    "SmoothedRates": "app.scoring.smoothing",
    "empirical_bayes": "app.scoring.smoothing",
    "Period": "app.scoring.snapshot",
    "Ranking": "app.scoring.snapshot",
    "compute_ranking": "app.scoring.snapshot",
}


__getattr__ = lazy_exports(__name__, _HOME)


__all__ = [
    "BARRIO_PROFILE",
    "BARRIO_PROFILE_V1",
    "DEFAULT_PROFILES",
    "DRUG_CONSUMPTION_CODES",
    "DRUG_TRAFFICKING_CODES",
    "MICRO_BARRIO_PROFILE",
    "MICRO_BARRIO_PROFILE_V1",
    "REQUIRED_COLUMNS",
    "VARIABLES",
    "Classifier",
    "HotSpotParams",
    "HotSpots",
    "Normalisation",
    "Period",
    "ProfileCatalog",
    "ProfileError",
    "Ranking",
    "ScoringInputError",
    "ScoringProfile",
    "SmoothedRates",
    "Smoothing",
    "UnitInputs",
    "compute_ranking",
    "contiguity_weights",
    "empirical_bayes",
    "getis_ord_star",
    "load_external_csv",
    "risk_factor_load",
]
