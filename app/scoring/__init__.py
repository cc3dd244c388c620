"""Ranking of critical barrios and micro-barrios (issue #5): pure statistics.

No FastAPI, no SQLAlchemy: the database layer builds a `UnitInputs` table per unit and
period, `compute_ranking` returns a `Ranking` with every variable, weight, contribution,
score, class and rank, and the fingerprints that make it reproducible. The formulas are in
docs/metodologia.md.
"""

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
