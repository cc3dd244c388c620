"""The one "who did it" label (`Caller.actor`), for keys, tokens and the public."""

from __future__ import annotations

from app.identity.caller import ACTOR_MAX_CHARS, PUBLIC, Caller
from app.models import Role


def test_a_key_is_named_by_institution_and_prefix() -> None:
    caller = Caller(role=Role.POLICE, institution="pdi", key_id=3, key_prefix="vga_1a2b3c4d")
    assert caller.actor == "pdi/vga_1a2b3c4d"


def test_a_token_is_named_by_institution_and_subject() -> None:
    caller = Caller(role=Role.POLICE, institution="pdi", key_name="f-17", subject="f-17")
    assert caller.actor == "pdi/oidc:f-17"


def test_the_public_and_overlong_labels() -> None:
    assert PUBLIC.actor == "publico"
    long = Caller(role=Role.POLICE, institution="x" * 100, subject="s" * 200)
    assert len(long.actor) == ACTOR_MAX_CHARS  # fits every stored "by" column
