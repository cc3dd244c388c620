"""GDAL reads a keyed OGC layer with HTTP Basic (the key as password), in a few requests.

Against `live_server`, with 10,000 committed complaints (deleted after). Requests are
counted from GDAL's own log (CPL_DEBUG: one `HTTP: Fetch(url)` line per request). Two
GDALs: pyogrio's wheel (always here; 3.8+ sizes pages by the `limit` maximum of /ogc/api)
and Debian's `ogrinfo`/`ogr2ogr` (3.6: pages of 10 unless `-oo PAGE_SIZE`, skipped where
gdal-bin is missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.identity import api_keys
from app.models import ApiKey, Complaint, Role

REF = "GDAL10K-"
FEATURES = 10_000
OGRINFO = shutil.which("ogrinfo")
# scripts/bootstrap.sh installs gdal-bin for the suite: in CI a missing one is a failure
NO_GDAL = OGRINFO is None and not os.environ.get("CI")


@pytest.fixture(scope="module")
def keyed_layer(engine: Engine) -> Iterator[str]:
    """10,000 committed complaints and a planner key (its secret)."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session, name="Prueba GDAL", role=Role.PLANNER, institution="municipalidad"
        )
        import_complaints(
            session,
            [
                {
                    "external_ref": f"{REF}{i}",
                    "source": "carabineros",
                    "category": "556",
                    "occurred_at": (now - timedelta(hours=i + 1)).isoformat(),
                    "lon": -72.79 + 0.0001 * (i % 100),
                    "lat": -39.44 - 0.0001 * (i // 100),
                    "precision": "exact",
                }
                for i in range(FEATURES)
            ],
            loaded_by="pruebas GDAL",
        )
        session.commit()
        key_id = key.id
    try:
        yield secret
    finally:
        with Session(engine) as session:
            session.execute(delete(Complaint).where(Complaint.external_ref.startswith(REF)))
            session.execute(delete(ApiKey).where(ApiKey.id == key_id))
            session.commit()


def gdal_env(secret: str, log: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GDAL_HTTP_AUTH": "BASIC",
        "GDAL_HTTP_USERPWD": f"vigia:{secret}",
        "CPL_DEBUG": "ON",
        "CPL_LOG": str(log),
        "GDAL_HTTP_TIMEOUT": "120",
    }


def fetched(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line.split("Fetch(", 1)[1].rstrip(")") for line in lines if "HTTP: Fetch(" in line]


def test_pyogrio_reads_10000_keyed_features_over_basic_in_few_requests(
    live_server: str, keyed_layer: str, tmp_path: Path
) -> None:
    import pyogrio

    log = tmp_path / "gdal.log"
    env = gdal_env(keyed_layer, log)
    options = {k: env[k] for k in ("GDAL_HTTP_AUTH", "GDAL_HTTP_USERPWD", "CPL_DEBUG", "CPL_LOG")}
    pyogrio.set_gdal_config_options(options)
    try:
        frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="complaints")
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(options))
    assert len(frame) >= FEATURES
    requests = fetched(log)
    pages = [u for u in requests if "/collections/complaints/items" in u]
    # GDAL caps its page at 1,000 whatever the maximum: 10 pages, not 1,000 of 10
    assert len(pages) <= FEATURES // 1000 + 2, pages
    assert len(requests) <= FEATURES // 1000 + 6, requests


@pytest.mark.skipif(NO_GDAL, reason="sin gdal-bin (ogrinfo)")
def test_ogrinfo_counts_a_keyed_layer_from_number_matched_in_two_requests(
    live_server: str, keyed_layer: str, tmp_path: Path
) -> None:
    log = tmp_path / "ogrinfo.log"
    run = subprocess.run(
        [str(OGRINFO), "-ro", "-so", f"OAPIF:{live_server}/ogc", "complaints"],
        env=gdal_env(keyed_layer, log),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    count = int(run.stdout.split("Feature Count:", 1)[1].split()[0])
    assert count >= FEATURES
    assert len(fetched(log)) <= 3, fetched(log)


@pytest.mark.skipif(NO_GDAL, reason="sin gdal-bin (ogr2ogr)")
def test_ogr2ogr_copies_a_keyed_layer_in_one_page_and_fails_with_a_bad_key(
    live_server: str, keyed_layer: str, tmp_path: Path
) -> None:
    log = tmp_path / "ogr2ogr.log"
    out = tmp_path / "denuncias.geojson"
    command = [
        str(shutil.which("ogr2ogr")),
        "-f",
        "GeoJSON",
        str(out),
        f"OAPIF:{live_server}/ogc",
        "complaints",
        "-oo",
        "PAGE_SIZE=10000",  # GDAL 3.6 does not read the limit maximum; 3.8+ does
    ]
    run = subprocess.run(
        command, env=gdal_env(keyed_layer, log), capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    assert out.read_text().count('"Feature"') >= FEATURES
    pages = [u for u in fetched(log) if "/collections/complaints/items" in u]
    assert len(pages) <= 3, pages

    bad_log = tmp_path / "bad.log"
    bad = subprocess.run(
        [str(OGRINFO), "-ro", "-so", f"OAPIF:{live_server}/ogc", "complaints"],
        env=gdal_env("vga_00000000_clave-mala", bad_log),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "Feature Count" not in bad.stdout
    said = bad_log.read_text(errors="replace")  # GDAL writes its errors to CPL_LOG
    assert "401" in said, said[-2000:]
