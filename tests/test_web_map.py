"""The planners' web map at `/`: how it is served."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services import web_map
from app.settings import BasemapSettings, get_basemap_settings

STATIC = web_map.STATIC_DIR


# --- serving the page ----------------------------------------------------------------------


def test_the_map_is_served_at_the_root_with_its_vendored_libraries(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in web_map.VENDOR_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("/* vendored */")
    monkeypatch.setattr(web_map, "VENDOR_DIR", tmp_path)

    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in response.text
    assert "Mapa de seguridad comunal" in response.text
    for name in web_map.VENDOR_FILES:
        assert f"/static/vendor/{name}" in response.text


def test_without_the_libraries_the_root_says_how_to_install_them(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_map, "VENDOR_DIR", tmp_path / "no-existe")

    response = client.get("/")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "El mapa todavía no está instalado" in response.text
    assert "scripts/bootstrap.sh" in response.text
    assert "leaflet/leaflet.js" in response.text


def test_page_script_and_style_are_served_as_static_files(client: TestClient) -> None:
    script = client.get("/static/mapa.js")
    style = client.get("/static/mapa.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert client.get("/static/../app/main.py").status_code == 404


def test_nothing_on_the_page_comes_from_another_host() -> None:
    """The map must work with no internet: no CDN, no remote fonts, no default basemap."""
    remote = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//|url\(\s*["']?(https?:)?//|@import""")
    for name in ("index.html", "mapa.js", "mapa.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not remote.search(text), name
        assert "tile.openstreetmap" not in text, name


def test_map_config_has_no_basemap_by_default(client: TestClient) -> None:
    body = client.get("/api/v1/map-config").json()

    assert body["basemap"] is None
    assert body["variables"]["dmcs_rate"]["label"] == "Tasa DMCS suavizada"


def test_map_config_passes_the_configured_basemap(app: Any, client: TestClient) -> None:
    def configured() -> BasemapSettings:
        return BasemapSettings(
            url="https://teselas.lanco.cl/{z}/{x}/{y}.png", attribution="Municipalidad"
        )

    app.dependency_overrides[get_basemap_settings] = configured

    body = client.get("/api/v1/map-config").json()

    assert body["basemap"] == {
        "url": "https://teselas.lanco.cl/{z}/{x}/{y}.png",
        "attribution": "Municipalidad",
        "max_zoom": 19,
    }


@pytest.mark.parametrize(
    "url", ["ftp://x/{z}/{x}/{y}", "https://teselas.lanco.cl/{z}/{x}.png", "teselas/{z}/{x}/{y}"]
)
def test_a_basemap_url_must_be_an_xyz_template(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        BasemapSettings(url=url)
