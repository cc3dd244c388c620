"""`app.models` loads its models on first use: every name it exports still resolves to the
class of its module, and no module of the package is left out of the metadata Alembic reads."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import app.models
from app.models import Base


def test_every_exported_name_is_its_module_s_object() -> None:
    found: set[str] = set()
    for module_name in app.models._MODULES:
        module = importlib.import_module(f"app.models.{module_name}")
        for name in set(app.models.__all__) & set(vars(module)):
            assert getattr(app.models, name) is vars(module)[name], name
            found.add(name)
    assert found == set(app.models.__all__)


def test_every_model_module_is_loaded_with_the_package() -> None:
    files = {m.name for m in pkgutil.iter_modules(app.models.__path__)}
    assert set(app.models._MODULES) == files


def test_first_use_loads_the_whole_metadata_in_a_fresh_interpreter() -> None:
    probe = (
        "import json, sys\n"
        "import app.models.api_key\n"
        "light = 'geoalchemy2' in sys.modules\n"
        "from app.models import Base\n"
        "print(json.dumps([light, sorted(Base.metadata.tables)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    geo_loaded_by_one_model, tables = json.loads(done.stdout.strip().splitlines()[-1])
    assert not geo_loaded_by_one_model
    assert tables == sorted(Base.metadata.tables)
    assert {"api_key", "complaint", "micro_barrio", "audit_event"} <= set(tables)


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(app.models, "NoSuchModel")
