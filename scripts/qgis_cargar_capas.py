"""Load every Vigía collection into QGIS (public ones without a key, keyed ones through a
Basic auth configuration holding the key) and render a map PNG, headless.

    VIGIA_CLAVE=vga_... QT_QPA_PLATFORM=offscreen /usr/bin/python3 \
        scripts/qgis_cargar_capas.py --url http://127.0.0.1:8120 [--salida docs/img/qgis.png]

Runs with Debian's QGIS (`apt-get install qgis python3-qgis`; 3.22 in bookworm), not in the
project's virtualenv. The key is read from VIGIA_CLAVE, never from the command line (it
would show in `ps` and in shell history), and kept in a throw-away QGIS authentication
database. QGIS 3.22 cannot send arbitrary headers, so the key goes as the password of HTTP
Basic, the way a planner would configure it by hand (README, "Usar Vigía desde QGIS").
Each layer is an OGC API - Features layer (provider OAPIF); the complaints are also loaded
as vector tiles (provider vectortile), the same key. Prints, per layer: public or keyed and
its features (each read in full). The requests QGIS makes show in the server's access log.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import urllib.request
from base64 import b64encode
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
AUTH_DIR = tempfile.mkdtemp(prefix="vigia-qgis-auth-")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = AUTH_DIR  # a throw-away auth database, not the user's

from qgis.core import (  # noqa: E402 (the environment above must be set first)
    QgsApplication,
    QgsAuthMethodConfig,
    QgsDataSourceUri,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

# features per request: QGIS 3.22 asks 100 at a time otherwise (Vigía allows 10,000)
PAGE_SIZE = 1000
STYLE = {  # collection -> (fill or point colour, opacity, point size in mm)
    "barrios": ("#2f6f8f", 0.25, 0),
    "micro-barrios": ("#ffffff", 0.35, 0),
    "ranking-barrios": ("#e3a33b", 0.35, 0),
    "ranking-micro-barrios": ("#e3c03b", 0.25, 0),
    "risk-factors-public": ("#6a3d9a", 0.9, 2.0),
    "risk-factors": ("#1b9e3e", 1.0, 2.6),
    "complaints": ("#c0392b", 0.55, 0.9),
}


def collections(url: str, secret: str | None) -> list[dict[str, str]]:
    headers = {"Accept": "application/json"}
    if secret:
        headers["Authorization"] = "Basic " + b64encode(f"vigia:{secret}".encode()).decode()
    request = urllib.request.Request(f"{url}/ogc/collections", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return list(json.load(response)["collections"])


def basic_auth_config(secret: str) -> str:
    """A Basic configuration (user `vigia`, the key as password) in the throw-away auth DB."""
    manager = QgsApplication.authManager()
    manager.setMasterPassword(secrets.token_urlsafe(16), True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("Vigía (clave)")
    config.setConfig("username", "vigia")
    config.setConfig("password", secret)
    if not manager.storeAuthenticationConfig(config)[0]:
        raise SystemExit("QGIS no pudo guardar la configuración de autenticación")
    return str(config.id())


def oapif_layer(url: str, collection: dict[str, str], authcfg: str | None) -> QgsVectorLayer:
    uri = QgsDataSourceUri()
    uri.setParam("url", f"{url}/ogc")
    uri.setParam("typename", collection["id"])
    uri.setParam("pageSize", str(PAGE_SIZE))
    if authcfg:
        uri.setAuthConfigId(authcfg)
    return QgsVectorLayer(uri.uri(False), collection.get("title", collection["id"]), "OAPIF")


def style(layer: QgsVectorLayer, colour: str, opacity: float, size: float) -> None:
    symbol = layer.renderer().symbol()
    symbol.setColor(QColor(colour))
    symbol.setOpacity(opacity)
    if layer.geometryType() == 0:  # points
        symbol.setSize(size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="raíz de Vigía, p. ej. http://127.0.0.1:8120")
    parser.add_argument("--salida", type=Path, default=Path("docs/img/qgis.png"))
    args = parser.parse_args()
    url = args.url.rstrip("/")
    secret = os.environ.get("VIGIA_CLAVE")
    if not secret:
        raise SystemExit("Defina VIGIA_CLAVE con una clave de Vigía (nunca en la línea de órdenes)")

    app = QgsApplication([], False)
    app.initQgis()
    authcfg = basic_auth_config(secret)
    public = {c["id"] for c in collections(url, None)}
    every = collections(url, secret)

    layers = []
    print(f"{'capa':24} {'acceso':8} {'elementos':>9}")
    for collection in every:
        cid = collection["id"]
        layer = oapif_layer(url, collection, None if cid in public else authcfg)
        if not layer.isValid():
            print(f"{cid:24} {'público' if cid in public else 'clave':8} {'NO CARGA':>9}")
            continue
        count = sum(1 for _ in layer.getFeatures())  # read it all, as a map or export would
        print(f"{cid:24} {'público' if cid in public else 'clave':8} {count:>9}")
        style(layer, *STYLE.get(cid, ("#555555", 0.5, 1.0)))
        layers.append((cid, layer))

    tiles = QgsVectorTileLayer(
        "type=xyz&zmin=0&zmax=16&authcfg="
        + authcfg
        + "&url="
        + f"{url}/ogc/collections/complaints/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}",
        "Denuncias (teselas vectoriales, con clave)",
    )
    print(f"teselas de denuncias con clave: {'cargan' if tiles.isValid() else 'NO CARGAN'}")

    # first in the list is drawn on top
    order = ["risk-factors", "complaints", "micro-barrios", "barrios"]
    drawn = [layer for cid in order for c, layer in layers if c == cid]
    extent = QgsRectangle()
    for cid, layer in layers:
        if cid == "barrios":
            extent = layer.extent()
    settings = QgsMapSettings()
    settings.setLayers(drawn)
    settings.setBackgroundColor(QColor("#f4f1ea"))
    settings.setOutputSize(QSize(1600, 1100))
    settings.setExtent(extent.buffered(extent.width() * 0.03))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    args.salida.parent.mkdir(parents=True, exist_ok=True)
    job.renderedImage().save(str(args.salida), "png")
    print(f"mapa: {args.salida} ({len(drawn)} capas)")
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
