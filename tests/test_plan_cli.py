"""`vigia council` and `vigia activities` against the test database (committed, then removed):
the executive secretary's tasks from the command line, refused input writing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models.activity import PreventionActivity
from app.models.council import Agreement, AgreementFollowUp, CouncilMember, CouncilSession
from tests.factories.activities import activity_row, csv_bytes


@pytest.fixture
def runner(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    from app.cli import common
    from app.settings import get_database_settings

    # the commands' console is made once per process, maybe by an earlier test with the
    # default 80 columns: wide enough here that table cells are not wrapped
    monkeypatch.setattr(common.out, "_width", 200)
    get_database_settings.cache_clear()
    yield CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    get_database_settings.cache_clear()
    with Session(engine) as session:
        for model in (
            AgreementFollowUp,
            Agreement,
            CouncilSession,
            CouncilMember,
            PreventionActivity,
        ):
            session.execute(delete(model))
        session.commit()


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_council_commands(runner: CliRunner, engine: Engine) -> None:
    made = runner.invoke(
        cli,
        [
            "council",
            "add-session",
            "--date",
            "2025-03-10",
            "--present",
            "presidente,carabineros,pdi,fiscalia,senda,sename,cosoc_1,cosoc_2",
            "--agreement",
            "Poda de árboles en Los Aromos|Aseo y ornato|2025-04-10",
            "--agreement",
            "Informe de Fiscalía|Fiscalía|2025-03-31",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "2 compromisos" in made.output
    listed = runner.invoke(cli, ["council", "agreements"])
    assert "Poda de árboles en Los Aromos" in listed.output
    with Session(engine) as session:
        first = session.scalars(select(Agreement).order_by(Agreement.due_on)).first()
        assert first is not None
        agreement_id = first.id
    done = runner.invoke(
        cli,
        ["council", "follow-up", str(agreement_id), "--status", "cumplido", "--note", "Entregado"],
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["council", "indicators", "--year", "2025"])
    assert "1 sesiones (1 ordinarias)" in shown.output
    member = runner.invoke(
        cli, ["council", "set-member", "senda", "--representative", "Coord. SENDA Previene"]
    )
    assert member.exit_code == 0, member.output
    assert "Coord. SENDA Previene" in runner.invoke(cli, ["council", "seats"]).output

    future = runner.invoke(cli, ["council", "add-session", "--date", "2999-01-01"])
    assert future.exit_code == 1
    assert "futura" in future.output
    assert _count(engine, CouncilSession) == 1


def test_activities_import_refuses_a_bad_file_and_loads_a_good_one(
    runner: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "malo.csv"
    bad.write_bytes(csv_bytes([activity_row(), activity_row(ref="ACT-2", mujeres_0_13=-4)]))
    refused = runner.invoke(cli, ["activities", "import", str(bad)])
    assert refused.exit_code == 1
    assert "fila 2" in refused.output
    assert "mujeres_0_13" in refused.output
    assert _count(engine, PreventionActivity) == 0

    skipped = runner.invoke(cli, ["activities", "import", str(bad), "--mode", "skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "1 importadas, 1 rechazadas" in skipped.output
    assert _count(engine, PreventionActivity) == 1
    listed = runner.invoke(cli, ["activities", "list", "--year", "2025"])
    assert "Escuela Rural Malalhue" in listed.output
    indicators = runner.invoke(cli, ["activities", "indicators", "--year", "2025"])
    assert "III.1.M1" in indicators.output
