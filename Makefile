# Vigía: the two commands of the README, and a few helpers.
#   make run   -> set everything up and serve Lanco (with demo data) on http://127.0.0.1:8000
#   make test  -> set everything up and run linters and the whole test suite
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv/bin
TERRITORY ?= data/barrios.geojson
# census blocks (manzanas): the map's light base when no basemap is set (VIGIA_BASEMAP_URL).
# Lanco's with Lanco's territory; another TERRITORY loads none unless BLOCKS names its file.
LANCO_BLOCKS := data/lanco/manzanas_precenso_2016.geojson
BLOCKS ?= $(if $(filter data/barrios.geojson,$(TERRITORY)),$(LANCO_BLOCKS),)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# the suite on every core (2 here), a database per worker; each file stays on one worker
# (groups: tests/conftest.py). `make test PYTEST_PARALLEL=` runs it in one process.
PYTEST_PARALLEL ?= -n auto --dist loadgroup

.PHONY: run test setup lint typecheck pytest clean-db lock

run:
	export VIGIA_DATABASE_URL="$$(scripts/bootstrap.sh vigia)"
	$(VENV)/vigia db upgrade
	$(VENV)/vigia territory load $(TERRITORY)
	$(if $(BLOCKS),$(VENV)/vigia territory blocks $(BLOCKS),:)
	$(VENV)/vigia demo-data --if-empty
	echo
	echo "Vigía en http://$(HOST):$(PORT)/  ·  API: http://$(HOST):$(PORT)/docs"
	echo "Crear una clave:  $(VENV)/vigia apikey create --name 'Sgto. Pérez' --role police --institution carabineros"
	echo
	exec $(VENV)/vigia serve --host $(HOST) --port $(PORT)

test:
	export VIGIA_DATABASE_URL="$$(VIGIA_BOOTSTRAP_BROWSER=1 scripts/bootstrap.sh vigia)"
	$(MAKE) --no-print-directory lint typecheck
	$(VENV)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

lint:
	$(VENV)/ruff check app tests migrations bench scripts
	$(VENV)/ruff format --check app tests bench

typecheck:
	$(VENV)/mypy app

setup:
	scripts/bootstrap.sh vigia

# Re-resolve pyproject.toml (and its dev extra) into requirements.lock: exact versions with
# the hashes of every file, for every platform. Versions already in the lock are kept unless
# `make lock UPGRADE=1`; run it after changing dependencies and commit both files.
UV_VERSION ?= 0.13.9
lock:
	$(VENV)/python -m uv --version >/dev/null 2>&1 || $(VENV)/python -m pip install -q "uv==$(UV_VERSION)"
	$(VENV)/python -m uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	  --python-version 3.11.5 --quiet $(if $(UPGRADE),--upgrade,) -o requirements.lock
	$(VENV)/python scripts/check_lock.py pyproject.toml requirements.lock
