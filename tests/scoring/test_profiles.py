"""Scoring profiles: validation, versioning, fingerprints."""

from __future__ import annotations

import pytest

from app.scoring import (
    BARRIO_PROFILE_V1,
    MICRO_BARRIO_PROFILE_V1,
    VARIABLES,
    ProfileCatalog,
    ProfileError,
    ScoringProfile,
)


def fields_of(error: ProfileError) -> set[str]:
    return {str(item.get("field")) for item in error.errors}


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ({"dmcs_rate": -1.0}, "weights.dmcs_rate"),
        ({"dmcs_rate": float("nan")}, "weights.dmcs_rate"),
        ({"robos": 1.0}, "weights.robos"),
        ({"ext_Mayus": 1.0}, "weights.ext_Mayus"),
        ({"dmcs_rate": 0.0, "hotspot": 0.0}, "weights"),
        ({}, "weights"),
    ],
)
def test_invalid_weights_are_rejected(weights: dict[str, float], field: str) -> None:
    with pytest.raises(ProfileError) as caught:
        ScoringProfile(name="prueba", version=1, weights=weights)

    assert field in fields_of(caught.value)
    assert caught.value.status == 422


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ProfileError) as caught:
        ScoringProfile(
            name="Con Espacios",
            version=0,
            weights={"robos": 3.0, "dmcs_rate": -2.0},
            inverted=frozenset({"violent_share"}),
        )

    assert fields_of(caught.value) == {
        "name",
        "version",
        "weights.robos",
        "weights.dmcs_rate",
        "inverted",
    }


def test_unknown_normalisation_is_rejected() -> None:
    with pytest.raises(ProfileError, match="no es válido"):
        ScoringProfile(name="p", version=1, weights={"dmcs_rate": 1}, normalisation="z")  # type: ignore[arg-type]


def test_external_variables_are_known_by_prefix() -> None:
    profile = ScoringProfile(
        name="con-ivs",
        version=1,
        weights={"dmcs_rate": 1, "ext_ivs": 1, "ext_percepcion": 1},
        inverted=frozenset({"ext_percepcion"}),
    )

    assert list(profile.weights) == ["dmcs_rate", "ext_ivs", "ext_percepcion"]


def test_default_profiles_use_known_variables_and_add_up_to_100() -> None:
    assert set(MICRO_BARRIO_PROFILE_V1.weights) == set(VARIABLES)
    assert MICRO_BARRIO_PROFILE_V1.weight_total == 100.0
    assert BARRIO_PROFILE_V1.weights["hotspot"] == 0.0
    assert BARRIO_PROFILE_V1.weight_total == 90.0


def test_fingerprint_ignores_the_order_of_the_weights() -> None:
    one = ScoringProfile(name="p", version=1, weights={"dmcs_rate": 2, "violent_share": 1})
    two = ScoringProfile(name="p", version=1, weights={"violent_share": 1.0, "dmcs_rate": 2.0})

    assert one.fingerprint() == two.fingerprint()
    assert len(one.fingerprint()) == 64


def test_revision_is_a_new_version_and_the_old_one_is_unchanged() -> None:
    weights = dict(MICRO_BARRIO_PROFILE_V1.weights)

    revised = MICRO_BARRIO_PROFILE_V1.revise(
        weights={**weights, "risk_factor_load": 30.0}, description="más peso a factores"
    )

    assert revised.version == MICRO_BARRIO_PROFILE_V1.version + 1
    assert revised.name == MICRO_BARRIO_PROFILE_V1.name
    assert dict(MICRO_BARRIO_PROFILE_V1.weights) == weights
    assert revised.fingerprint() != MICRO_BARRIO_PROFILE_V1.fingerprint()


def test_revision_cannot_rename() -> None:
    with pytest.raises(ProfileError, match="name"):
        MICRO_BARRIO_PROFILE_V1.revise(name="otro")


def test_profile_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        MICRO_BARRIO_PROFILE_V1.weights["dmcs_rate"] = 99.0  # type: ignore[index]


def test_catalog_keeps_every_version_and_refuses_to_overwrite_one() -> None:
    catalog = ProfileCatalog((MICRO_BARRIO_PROFILE_V1,))
    revised = catalog.register(
        MICRO_BARRIO_PROFILE_V1.revise(weights={**MICRO_BARRIO_PROFILE_V1.weights, "hotspot": 0.0})
    )

    assert catalog.get(MICRO_BARRIO_PROFILE_V1.name) == revised
    assert catalog.get(MICRO_BARRIO_PROFILE_V1.name, 1) == MICRO_BARRIO_PROFILE_V1
    assert [p.version for p in catalog.versions(MICRO_BARRIO_PROFILE_V1.name)] == [1, 2]
    catalog.register(MICRO_BARRIO_PROFILE_V1)  # same content again: fine
    tampered = ScoringProfile(
        name=MICRO_BARRIO_PROFILE_V1.name, version=1, weights={"dmcs_rate": 1}
    )
    with pytest.raises(ProfileError, match="ya existe"):
        catalog.register(tampered)
    with pytest.raises(ProfileError, match="no existe la versión 7"):
        catalog.get(MICRO_BARRIO_PROFILE_V1.name, 7)
    with pytest.raises(ProfileError, match="no existe el perfil"):
        catalog.get("otro")


def test_risk_factor_weights_are_validated_and_versioned() -> None:
    with pytest.raises(ProfileError) as caught:
        ScoringProfile(
            name="p", version=1, weights={"dmcs_rate": 1}, risk_factor_weights={"luminaria": -1}
        )
    assert fields_of(caught.value) == {"risk_factor_weights.luminaria"}

    revised = MICRO_BARRIO_PROFILE_V1.revise(
        risk_factor_weights={**MICRO_BARRIO_PROFILE_V1.risk_factor_weights, "microbasural": 0.9}
    )
    assert revised.fingerprint() != MICRO_BARRIO_PROFILE_V1.fingerprint()
