#!/usr/bin/env bash
# Prepares everything Vigía needs on a fresh Debian machine, idempotently:
#   1. a Python virtual environment (.venv) with the locked dependencies (requirements.lock,
#      hashes checked) and the project installed;
#   2. a PostgreSQL server with PostGIS it can use;
#   3. the database named by the first argument (default "vigia"), with migrations at head;
#   4. the web map's libraries (Leaflet), Swagger UI (/docs), ReDoc (/redoc) and axe-core (tests), from web/package-lock.json
#      via the npm registry, copied into app/static/vendor/ so no page loads from a CDN;
#   5. with VIGIA_BOOTSTRAP_BROWSER=1 (set by `make test`) or in CI: Debian's chromium and GDAL, for
#      the browser tests of the pages and the GDAL client tests.
# Prints the database URL on the last line of stdout.
# VIGIA_DATABASE_URL pointing at an existing PostGIS database skips steps 2-3's provisioning
# (migrations still run).
set -euo pipefail

cd "$(dirname "$0")/.."
DB_NAME="${1:-vigia}"
PGHOST_DEFAULT="${VIGIA_PGHOST:-127.0.0.1}"
PGPORT_DEFAULT="${VIGIA_PGPORT:-5432}"
PGUSER_DEFAULT="${VIGIA_PGUSER:-postgres}"

log() { printf '\033[1;34m[vigía]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq >/tmp/vigia-apt.log 2>&1 || { tail -20 /tmp/vigia-apt.log >&2; exit 1; }
    apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>/tmp/vigia-apt.log 2>&1 ||
    { tail -20 /tmp/vigia-apt.log >&2; exit 1; }
}

# --- 1. Python ---------------------------------------------------------------------------
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { log "Se necesita Python 3.11 o superior"; exit 1; }

stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  if [ ! -x .venv/bin/python ]; then
    log "creando entorno virtual .venv con $PYTHON"
    "$PYTHON" -m venv .venv
  fi
  # the lock must cover pyproject.toml: a dependency added without `make lock` stops here
  .venv/bin/python scripts/check_lock.py pyproject.toml requirements.lock ||
    { log "requirements.lock no cubre pyproject.toml: ejecute 'make lock'"; exit 1; }
  log "instalando dependencias fijadas (pip install --require-hashes -r requirements.lock)"
  .venv/bin/python -m pip install -q --upgrade pip >/tmp/vigia-pip.log 2>&1
  # exactly the locked versions, each checked against its hash; then Vigía itself, alone
  .venv/bin/python -m pip install -q --require-hashes -r requirements.lock >>/tmp/vigia-pip.log 2>&1 ||
    { tail -30 /tmp/vigia-pip.log >&2; log "falló pip install (ver /tmp/vigia-pip.log)"; exit 1; }
  .venv/bin/python -m pip install -q --no-deps -e . >>/tmp/vigia-pip.log 2>&1 ||
    { tail -30 /tmp/vigia-pip.log >&2; log "falló pip install -e . (ver /tmp/vigia-pip.log)"; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- 1b. Report rendering (WeasyPrint needs Pango; fonts are local, never fetched) ------
report_pkgs=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || report_pkgs+=("$pkg")
done
if [ "${#report_pkgs[@]}" -gt 0 ]; then
  apt_install "${report_pkgs[@]}"
fi

# --- 2. PostgreSQL + PostGIS -------------------------------------------------------------
if [ -n "${VIGIA_DATABASE_URL:-}" ]; then
  log "VIGIA_DATABASE_URL definido: se usa esa base de datos sin aprovisionar"
  DB_URL="$VIGIA_DATABASE_URL"
else
  PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST_DEFAULT" -p "$PGPORT_DEFAULT" -U "$PGUSER_DEFAULT")
  if ! command -v psql >/dev/null 2>&1; then
    apt_install postgresql-client
  fi
  if ! pg_isready -q -h "$PGHOST_DEFAULT" -p "$PGPORT_DEFAULT"; then
    # Maybe a local cluster is installed but stopped.
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
      log "iniciando el clúster PostgreSQL local"
      for v in /etc/postgresql/*; do
        as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start >&2 || true
      done
    else
      log "no hay PostgreSQL en $PGHOST_DEFAULT:$PGPORT_DEFAULT: instalando uno"
      apt_install postgresql postgresql-postgis
      v=$(ls /etc/postgresql | sort -n | tail -1)
      # trust on loopback, as on the development machines
      hba=/etc/postgresql/$v/main/pg_hba.conf
      as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
      as_root sed -i -E 's/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
      as_root pg_ctlcluster --skip-systemctl-redirect "$v" main restart >&2 || \
        as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2
    fi
    for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST_DEFAULT" -p "$PGPORT_DEFAULT" && break; sleep 1; done
  fi
  pg_isready -q -h "$PGHOST_DEFAULT" -p "$PGPORT_DEFAULT" || { log "PostgreSQL no responde"; exit 1; }

  has_postgis=$("${PSQL[@]}" -d postgres -tAc "select count(*) from pg_available_extensions where name = 'postgis'")
  if [ "$has_postgis" = "0" ]; then
    major=$("${PSQL[@]}" -d postgres -tAc "show server_version_num" | cut -c1-2)
    log "el servidor PostgreSQL $major no tiene PostGIS: instalando postgresql-$major-postgis-3"
    apt_install "postgresql-$major-postgis-3"
  fi

  exists=$("${PSQL[@]}" -d postgres -tAc "select 1 from pg_database where datname = '$DB_NAME'")
  if [ "$exists" != "1" ]; then
    log "creando la base de datos $DB_NAME"
    "${PSQL[@]}" -d postgres -c "create database \"$DB_NAME\"" >&2
  fi
  DB_URL="postgresql+psycopg://$PGUSER_DEFAULT@$PGHOST_DEFAULT:$PGPORT_DEFAULT/$DB_NAME"
fi

# --- 4. Web map libraries (npm registry; served by Vigía itself) --------------------------
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
lock_hash=$(sha1sum web/package-lock.json | cut -c1-12)
web_stamp=web/node_modules/.vigia-lock-$lock_hash
if [ ! -f "$web_stamp" ]; then
  log "instalando las bibliotecas del mapa (npm ci en web/)"
  # --ignore-scripts: no package needs one, and swagger-ui-dist's @scarf/scarf would phone home
  (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >/tmp/vigia-npm.log 2>&1 ||
    { tail -30 /tmp/vigia-npm.log >&2; log "falló npm ci (ver /tmp/vigia-npm.log)"; exit 1; }
  touch "$web_stamp"
fi
vendor=app/static/vendor
if [ ! -f "$vendor/.lock-$lock_hash" ]; then
  log "copiando Leaflet, Leaflet.VectorGrid, MapLibre GL, Swagger UI, ReDoc y axe-core a $vendor/"
  rm -rf "$vendor"
  mkdir -p "$vendor/leaflet" "$vendor/leaflet.vectorgrid"
  cp -R web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css \
    web/node_modules/leaflet/dist/images web/node_modules/leaflet/LICENSE "$vendor/leaflet/"
  # VectorGrid draws the complaint vector tiles (MVT); the bundled build carries pbf and
  # vector-tile (its README holds the licences)
  cp web/node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js \
    web/node_modules/leaflet.vectorgrid/README.md "$vendor/leaflet.vectorgrid/"
  # MapLibre GL: the WebGL map of tests/test_cors_browser.py, a page on another origin
  mkdir -p "$vendor/maplibre-gl"
  cp web/node_modules/maplibre-gl/dist/maplibre-gl.js web/node_modules/maplibre-gl/dist/maplibre-gl.css \
    web/node_modules/maplibre-gl/LICENSE.txt "$vendor/maplibre-gl/"
  # Swagger UI for /docs (its init script is app/static/docs.js: no inline script, strict CSP)
  mkdir -p "$vendor/swagger-ui"
  cp web/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
    web/node_modules/swagger-ui-dist/swagger-ui.css \
    web/node_modules/swagger-ui-dist/LICENSE "$vendor/swagger-ui/"
  # ReDoc for /redoc (standalone bundle; its init script is app/static/redoc.js)
  mkdir -p "$vendor/redoc"
  cp web/node_modules/redoc/bundles/redoc.standalone.js \
    web/node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt \
    web/node_modules/redoc/LICENSE "$vendor/redoc/"
  # axe-core: the browser tests inject it to check each page's accessibility
  mkdir -p "$vendor/axe-core"
  cp web/node_modules/axe-core/axe.min.js web/node_modules/axe-core/LICENSE "$vendor/axe-core/"
  touch "$vendor/.lock-$lock_hash"
fi

# --- 5. Real clients for the suite (make test, CI): Debian's chromium for the pages' browser
# tests, and Debian's GDAL (ogrinfo/ogr2ogr) for the OGC API client tests (tests/test_gdal_clients.py)
if [ "${VIGIA_BOOTSTRAP_BROWSER:-0}" = "1" ] || [ -n "${CI:-}" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium fonts-dejavu-core
  fi
  if ! command -v ogrinfo >/dev/null 2>&1; then
    apt_install gdal-bin
  fi
fi

echo "$DB_URL"
