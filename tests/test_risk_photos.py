"""Photos are re-encoded on upload: no EXIF (GPS, camera) comes out, polyglots and
decompression bombs are refused and write nothing."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFile
from PIL.ExifTags import IFD
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.settings import RiskFactorSettings, get_risk_settings
from tests.factories.images import make_jpeg_with_gps, make_png, make_webp_with_gps
from tests.factories.keys import Keys
from tests.factories.risk import counts, make_report
from tests.helpers import assert_problem


def upload(client: TestClient, keys: Keys, data: bytes, name: str = "f.jpg") -> Any:
    rid = make_report(client, keys)["id"]
    return client.post(
        f"/api/v1/risk-factors/{rid}/photos",
        files={"file": (name, io.BytesIO(data), "image/jpeg")},
        headers=keys.h("police"),
    )


def download(client: TestClient, keys: Keys, added: Any) -> bytes:
    assert added.status_code == 201, added.text
    got = client.get(added.json()["url"], headers=keys.h("planner"))
    assert got.status_code == 200
    return got.content


def test_a_jpeg_with_gps_comes_out_without_it(client: TestClient, keys: Keys) -> None:
    original = make_jpeg_with_gps(size=(40, 20), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(IFD.GPSInfo)  # it is there
    added = upload(client, keys, original)
    stored = download(client, keys, added)
    assert stored != original
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(IFD.GPSInfo) == {}
    assert "exif" not in image.info
    assert "comment" not in image.info
    for trace in (b"Exif", b"Canon", b"Sargento", b"Cuadrante"):
        assert trace not in stored
    # the orientation was applied to the pixels before the tag was dropped
    assert image.size == (20, 40)
    photo = added.json()
    assert photo["content_type"] == "image/jpeg"
    assert photo["size_bytes"] == len(stored)


def test_webp_stays_webp_without_exif(client: TestClient, keys: Keys) -> None:
    original = make_webp_with_gps()
    assert b"Canon" in original
    stored = download(client, keys, upload(client, keys, original, "f.webp"))
    assert Image.open(io.BytesIO(stored)).format == "WEBP"
    assert b"Canon" not in stored
    assert b"EXIF" not in stored


def test_only_the_pixels_of_a_png_are_kept(client: TestClient, keys: Keys, db: Session) -> None:
    # a real PNG with HTML after its end: stored, but without the payload
    original = make_png() + b"<html><script>alert(1)</script></html>"
    stored = download(client, keys, upload(client, keys, original, "f.png"))
    assert Image.open(io.BytesIO(stored)).format == "PNG"
    assert b"<html" not in stored
    assert b"script" not in stored
    [row] = db.execute(text("SELECT sha256, size_bytes FROM report_photo")).all()
    assert (row.sha256, row.size_bytes) == (hashlib.sha256(stored).hexdigest(), len(stored))


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n<html><body><script>alert(1)</script></body></html>",
        b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>",
        b"RIFF\x00\x00\x00\x00WEBP<html></html>",
        make_png(size=(64, 64))[:60],  # truncated
    ],
    ids=["png-html", "jpeg-html", "webp-html", "truncated-png"],
)
def test_a_signature_without_an_image_is_refused(
    client: TestClient, keys: Keys, db: Session, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as after `import weasyprint` (the reports), which sets this for the whole process
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    rid = make_report(client, keys)["id"]
    before = counts(db)
    refused = client.post(
        f"/api/v1/risk-factors/{rid}/photos",
        files={"file": ("f.png", io.BytesIO(data), "image/png")},
        headers=keys.h("police"),
    )
    body = assert_problem(refused, 422)
    assert body["errors"][0]["field"] == "file"
    assert counts(db) == before


def test_decompression_bombs_are_refused(
    app: Any, client: TestClient, keys: Keys, db: Session
) -> None:
    app.dependency_overrides[get_risk_settings] = lambda: RiskFactorSettings(
        photo_max_pixels=1_000_000
    )
    rid = make_report(client, keys)["id"]
    before = counts(db)
    bomb = make_png(size=(1001, 1000), color=(0, 0, 0))  # a few KB that decode to 1,001,000 pixels
    assert len(bomb) < 20_000
    refused = client.post(
        f"/api/v1/risk-factors/{rid}/photos",
        files={"file": ("bomb.png", io.BytesIO(bomb), "image/png")},
        headers=keys.h("police"),
    )
    body = assert_problem(refused, 422)
    assert "megapíxeles" in body["errors"][0]["reason"]
    assert counts(db) == before
    fits = make_png(size=(1000, 1000), color=(0, 0, 0))
    assert upload(client, keys, fits, "ok.png").status_code == 201


# --- the size limit: one setting, enforced by the shell -------------------------------------

TEN_MB_PHOTO = make_png() + b"\0" * 10_000_000  # a real PNG with 10 MB after its end


@pytest.fixture
def photo_limit_20_mb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """VIGIA_RISK_PHOTO_MAX_BYTES raised as an operator would, before the app is built."""
    monkeypatch.setenv("VIGIA_RISK_PHOTO_MAX_BYTES", "20000000")
    get_risk_settings.cache_clear()
    yield
    get_risk_settings.cache_clear()  # the next test reads the environment without it


def test_a_raised_photo_limit_is_the_one_enforced(
    photo_limit_20_mb: None, client: TestClient, keys: Keys, db: Session
) -> None:
    # the shell once cut every photo body at 8 MB + 64 KB whatever the setting said
    added = upload(client, keys, TEN_MB_PHOTO, "big.png")
    assert added.status_code == 201, added.text[:300]
    stored = download(client, keys, added)
    assert Image.open(io.BytesIO(stored)).format == "PNG"


def test_a_photo_over_the_default_limit_is_413(client: TestClient, keys: Keys, db: Session) -> None:
    rid = make_report(client, keys)["id"]
    before = counts(db)
    refused = client.post(
        f"/api/v1/risk-factors/{rid}/photos",
        files={"file": ("big.png", io.BytesIO(TEN_MB_PHOTO), "image/png")},
        headers=keys.h("police"),
    )
    body = assert_problem(refused, 413, "contenido_demasiado_grande")
    assert "8 MB" in body["detail"]
    assert counts(db) == before
