"""Scoring profiles: named, versioned sets of weights.

A profile never changes: `revise()` returns the next version and the catalog keeps every
version, so a ranking cited in a council session can always be recomputed with the exact
weights it used. The weights of the default profiles, and why, are in docs/metodologia.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from app.errors import FieldProblem
from app.scoring.errors import ProfileError, problem

# external variables (columns of the inputs named ext_<name>); here, not in inputs.py, so the
# variable texts load without pandas (the bulletin reads them)
EXTERNAL_PREFIX = "ext_"


@dataclass(frozen=True)
class Variable:
    label: str  # Spanish, for tables and the API
    unit: str
    description: str
    plain: str = ""  # one sentence for a council member (map panel, bulletin, CLI)


VARIABLES: Mapping[str, Variable] = MappingProxyType(
    {
        "dmcs_rate": Variable(
            "Tasa DMCS suavizada",
            "por 1.000 hab.",
            "Denuncias DMCS por 1.000 residentes, suavizadas por Bayes empírico",
            (
                "Cuántos delitos de mayor connotación social se denunciaron por cada 1.000 "
                "vecinos; en lugares chicos se corrige hacia el promedio para no exagerar por"
                " pocos casos."
            ),
        ),
        "violent_share": Variable(
            "Proporción de delitos violentos",
            "proporción",
            "Delitos violentos / total de denuncias, suavizada por Bayes empírico",
            (
                "De las denuncias del lugar, qué parte fueron delitos violentos en el espacio"
                " público (homicidios, lesiones, robos con violencia o por sorpresa); no "
                "incluye violencia intrafamiliar ni delitos sexuales, que la prevención "
                "situacional no aborda."
            ),
        ),
        "drug_trafficking_rate": Variable(
            "Tráfico y microtráfico",
            "por 1.000 hab.",
            "Denuncias 40101-40103 por 1.000 residentes, suavizadas",
            ("Denuncias de tráfico y microtráfico de drogas por cada 1.000 vecinos."),
        ),
        "drug_consumption_rate": Variable(
            "Consumo y porte en vía pública",
            "por 1.000 hab.",
            "Denuncias 70201, 70202, 70204 por 1.000 residentes, suavizadas",
            (
                "Denuncias por consumo o porte de drogas y alcohol en la vía pública por cada"
                " 1.000 vecinos."
            ),
        ),
        "risk_factor_load": Variable(
            "Carga de factores de riesgo",
            "puntos",
            "Factores de riesgo abiertos ponderados por tipo, severidad y atraso",
            (
                "Cuántos factores de riesgo seguían sin resolver al cierre del período "
                "(luminarias apagadas, sitios eriazos, follaje…), según su tipo y gravedad, "
                "por cada 1.000 vecinos."
            ),
        ),
        "dmcs_trend": Variable(
            "Tendencia DMCS",
            "log-razón",
            "ln de la tasa DMCS suavizada actual sobre la del período anterior",
            (
                "Si los delitos del lugar subieron claramente más que en el resto de la "
                "comuna respecto del año anterior; solo suma cuando el aumento no se explica "
                "por azar."
            ),
        ),
        "hotspot": Variable(
            "Punto caliente Gi*",
            "z",
            "z de Getis-Ord Gi* de la tasa DMCS si es punto caliente significativo; si no, 0",
            (
                "Si el lugar y sus vecinos forman juntos una zona de delitos más alta que el "
                "resto de la comuna, más allá del azar (punto caliente)."
            ),
        ),
    }
)
_EXTERNAL_NAME = re.compile(rf"^{EXTERNAL_PREFIX}[a-z0-9_]+$")


class Normalisation(StrEnum):
    MIN_MAX = "min_max"  # (x - min) / (max - min); constant column -> 0
    PERCENTILE = "percentil"  # (average rank - 1) / (n - 1); n = 1 -> 0


class Classifier(StrEnum):
    FISHER_JENKS = "fisher_jenks"
    QUANTILES = "cuantiles"


class Smoothing(StrEnum):
    """The prior that empirical Bayes shrinks a unit's rate towards (method 2)."""

    GLOBAL = "global"  # the mean of every unit of the ranking (Marshall 1991)
    SPATIAL = "espacial"  # the unit and its contiguous neighbours (esda Spatial_Empirical_Bayes)


METHODS = (1, 2)  # 1: the method of issue #5; 2: issue #16 (docs/metodologia.md)


def is_known_variable(name: str) -> bool:
    return name in VARIABLES or bool(_EXTERNAL_NAME.match(name))


@dataclass(frozen=True)
class ScoringProfile:
    name: str
    version: int
    weights: Mapping[str, float]
    normalisation: Normalisation = Normalisation.MIN_MAX
    classifier: Classifier = Classifier.FISHER_JENKS
    inverted: frozenset[str] = field(default_factory=frozenset)  # lower raw value = worse
    # weight of each risk-factor type in `risk_factor_load` (versioned with the profile)
    risk_factor_weights: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    method: int = 1
    smoothing: Smoothing = Smoothing.GLOBAL  # method 2 only

    def __post_init__(self) -> None:
        problems = _profile_problems(self)
        if problems:
            raise ProfileError(
                f"el perfil '{self.name}' v{self.version} no es válido", errors=problems
            )
        ordered = {k: float(self.weights[k]) for k in sorted(self.weights)}
        object.__setattr__(self, "weights", MappingProxyType(ordered))
        factor_weights = {
            k: float(self.risk_factor_weights[k]) for k in sorted(self.risk_factor_weights)
        }
        object.__setattr__(self, "risk_factor_weights", MappingProxyType(factor_weights))
        object.__setattr__(self, "normalisation", Normalisation(self.normalisation))
        object.__setattr__(self, "classifier", Classifier(self.classifier))
        object.__setattr__(self, "inverted", frozenset(self.inverted))
        object.__setattr__(self, "smoothing", Smoothing(self.smoothing))

    @property
    def weight_total(self) -> float:
        return math.fsum(self.weights.values())

    def canonical(self) -> dict[str, object]:
        """Everything that changes the numbers, in a stable JSON-ready form.

        Method-1 profiles keep the form they were fingerprinted with (no method keys).
        """
        out: dict[str, object] = {
            "name": self.name,
            "version": self.version,
            "weights": {k: repr(v) for k, v in self.weights.items()},
            "normalisation": self.normalisation.value,
            "classifier": self.classifier.value,
            "inverted": sorted(self.inverted),
            "risk_factor_weights": {k: repr(v) for k, v in self.risk_factor_weights.items()},
        }
        if self.method != 1:
            out["method"] = self.method
            out["smoothing"] = self.smoothing.value
        return out

    def fingerprint(self) -> str:
        payload = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def revise(self, *, description: str = "", **changes: object) -> ScoringProfile:
        """The next version with `changes` (weights, normalisation, classifier, inverted)."""
        allowed = {
            "weights",
            "normalisation",
            "classifier",
            "inverted",
            "risk_factor_weights",
            "method",
            "smoothing",
        }
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ProfileError(f"no se puede cambiar {', '.join(unknown)} en una revisión")
        return replace(self, version=self.version + 1, description=description, **changes)  # type: ignore[arg-type]


def _profile_problems(profile: ScoringProfile) -> list[FieldProblem]:
    out: list[FieldProblem] = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", profile.name):
        out.append(problem("name", "nombre en minúsculas, dígitos, '-' o '_' (máx. 64)"))
    if not (isinstance(profile.version, int) and profile.version >= 1):
        out.append(problem("version", "la versión es un entero >= 1"))
    if not profile.weights:
        out.append(problem("weights", "el perfil no tiene pesos"))
    for name, weight in profile.weights.items():
        if not is_known_variable(name):
            out.append(problem(f"weights.{name}", "variable desconocida"))
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            out.append(problem(f"weights.{name}", "el peso debe ser un número finito >= 0"))
    finite = [
        w for w in profile.weights.values() if isinstance(w, int | float) and math.isfinite(w)
    ]
    if profile.weights and math.fsum(finite) <= 0:
        out.append(problem("weights", "la suma de los pesos debe ser mayor que 0"))
    out += [
        problem(f"risk_factor_weights.{name}", "el peso debe ser un número finito >= 0")
        for name, weight in profile.risk_factor_weights.items()
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0
    ]
    out += [
        problem("inverted", "la variable invertida no está en los pesos", code=name)
        for name in sorted(set(profile.inverted) - set(profile.weights))
    ]
    if profile.method not in METHODS:
        out.append(problem("method", f"método desconocido; use {', '.join(map(str, METHODS))}"))
    for attr, enum in (
        ("normalisation", Normalisation),
        ("classifier", Classifier),
        ("smoothing", Smoothing),
    ):
        if getattr(profile, attr) not in {m.value for m in enum}:
            out.append(problem(attr, f"valor desconocido; use {', '.join(m.value for m in enum)}"))
    return out


class ProfileCatalog:
    """Every version of every profile; a (name, version) can be registered only once."""

    def __init__(self, profiles: tuple[ScoringProfile, ...] = ()) -> None:
        self._profiles: dict[tuple[str, int], ScoringProfile] = {}
        for profile in profiles:
            self.register(profile)

    def register(self, profile: ScoringProfile) -> ScoringProfile:
        key = (profile.name, profile.version)
        existing = self._profiles.get(key)
        if existing is not None and existing.fingerprint() != profile.fingerprint():
            raise ProfileError(
                f"el perfil '{profile.name}' v{profile.version} ya existe con otros pesos: "
                "un cambio crea una versión nueva"
            )
        self._profiles[key] = profile
        return profile

    def get(self, name: str, version: int | None = None) -> ScoringProfile:
        versions = self.versions(name)
        if not versions:
            raise ProfileError(f"no existe el perfil '{name}'")
        if version is None:
            return versions[-1]
        for profile in versions:
            if profile.version == version:
                return profile
        raise ProfileError(f"no existe la versión {version} del perfil '{name}'")

    def versions(self, name: str) -> list[ScoringProfile]:
        return sorted(
            (p for (n, _), p in self._profiles.items() if n == name), key=lambda p: p.version
        )


_DEFAULT_WEIGHTS = {
    "dmcs_rate": 30.0,
    "violent_share": 10.0,
    "drug_trafficking_rate": 15.0,
    "drug_consumption_rate": 5.0,
    "risk_factor_load": 20.0,
    "dmcs_trend": 10.0,
    "hotspot": 10.0,
}
# Factor types of DOMAIN.md ("Urban risk factors"): what most directly enables or signals
# crime weighs 1; conditions that degrade surveillance less directly weigh less.
DEFAULT_RISK_FACTOR_WEIGHTS = {
    "luminaria_apagada": 1.0,
    "tramo_sin_iluminacion": 1.0,
    "punto_ciego": 1.0,
    "punto_consumo_via_publica": 1.0,
    "sitio_eriazo": 0.8,
    "inmueble_abandonado": 0.8,
    "follaje_obstruye": 0.6,
    "espacio_publico_deteriorado": 0.6,
    "sin_alarma_comunitaria": 0.5,
    "microbasural": 0.4,
}
# Method 1 (issue #5): kept so that rankings computed with it still recompute and verify.
MICRO_BARRIO_PROFILE_V1 = ScoringProfile(
    name="vigia-micro-barrio",
    version=1,
    weights=_DEFAULT_WEIGHTS,
    risk_factor_weights=DEFAULT_RISK_FACTOR_WEIGHTS,
    description="Perfil por defecto para micro-barrios (ver docs/metodologia.md)",
)
# Gi* on five units means nothing: the barrio profile keeps the variable visible with weight 0
BARRIO_PROFILE_V1 = ScoringProfile(
    name="vigia-barrio",
    version=1,
    weights={**_DEFAULT_WEIGHTS, "hotspot": 0.0},
    risk_factor_weights=DEFAULT_RISK_FACTOR_WEIGHTS,
    description="Perfil por defecto para barrios: el de micro-barrios sin Gi*",
)
# Method 2 (issue #16): same weights, sound variables, stated uncertainty. Both levels shrink
# towards the comuna (global prior): on planted truth it puts the high-rate micro-barrios in
# the top classes in 97 % of seeds against 70 % for the spatial prior, whose neighbourhoods of
# three to five units pull a high unit towards its neighbours (docs/metodologia.md). The
# spatial prior stays available (`smoothing="espacial"`).
MICRO_BARRIO_PROFILE = ScoringProfile(
    name="vigia-micro-barrio",
    version=2,
    weights=_DEFAULT_WEIGHTS,
    risk_factor_weights=DEFAULT_RISK_FACTOR_WEIGHTS,
    description="Perfil por defecto para micro-barrios, método 2 (ver docs/metodologia.md)",
    method=2,
    smoothing=Smoothing.GLOBAL,
)
BARRIO_PROFILE = ScoringProfile(
    name="vigia-barrio",
    version=2,
    weights={**_DEFAULT_WEIGHTS, "hotspot": 0.0},
    risk_factor_weights=DEFAULT_RISK_FACTOR_WEIGHTS,
    description="Perfil por defecto para barrios, método 2: el de micro-barrios sin Gi*",
    method=2,
    smoothing=Smoothing.GLOBAL,
)
DEFAULT_PROFILES: Mapping[str, ScoringProfile] = MappingProxyType(
    {"micro_barrio": MICRO_BARRIO_PROFILE, "barrio": BARRIO_PROFILE}
)
