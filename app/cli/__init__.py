"""`vigia`: the operator's command line (database, territory, keys, server, data).

Each capability keeps its commands in its own `cli.py`; this module only names them. A
subcommand's module is imported when that subcommand runs, never for `vigia --help` or for
another subcommand: the ranking's statistics (esda, libpysal) or the PDF renderer
(WeasyPrint, matplotlib) cost seconds to import, and operators and cron jobs pay that on
every call otherwise.
"""

from __future__ import annotations

import gc
import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Subcommand:
    module: str
    attribute: str  # a typer.Typer (a group of commands) or a function (one command)
    help: str


SUBCOMMANDS: dict[str, Subcommand] = {
    "serve": Subcommand("app.cli.serve", "serve", "Inicia el servicio HTTP (uvicorn)."),
    "demo-data": Subcommand(
        "app.demo.cli",
        "demo_data_command",
        "Genera denuncias sintéticas realistas (fuente `demo`) y las importa.",
    ),
    "db": Subcommand("app.cli.db", "app", "Base de datos: migraciones."),
    "territory": Subcommand(
        "app.territory.cli", "app", "Territorio: comuna, barrios y micro-barrios."
    ),
    "context": Subcommand(
        "app.context.cli",
        "app",
        "Capas de contexto: botillerías, paraderos, colegios y otros lugares.",
    ),
    "gazetteer": Subcommand(
        "app.geocoding.cli", "app", "Nomenclátor: calles, direcciones y lugares para geocodificar."
    ),
    "apikey": Subcommand("app.identity.cli", "app", "Claves de acceso a la API."),
    "categories": Subcommand("app.categories.cli", "app", "Catálogo de categorías de delito."),
    "complaints": Subcommand("app.complaints.cli", "app", "Denuncias: importación masiva."),
    "webhooks": Subcommand(
        "app.risk_factors.webhooks.cli",
        "app",
        "Webhooks: entrega de notificaciones a las unidades.",
    ),
    "rankings": Subcommand(
        "app.rankings.cli", "app", "Ranking de barrios y micro-barrios críticos."
    ),
    "risk-terrain": Subcommand(
        "app.risk_terrain.cli",
        "app",
        "Terreno de riesgo: qué lugares elevan el riesgo de delito a su alrededor.",
    ),
    "near-repeat": Subcommand(
        "app.near_repeat.cli",
        "near_repeat_command",
        "Repetición cercana: prueba de Knox por bandas de distancia y tiempo.",
    ),
    "report": Subcommand(
        "app.reports.cli",
        "app",
        "Informes: boletín del Consejo, avance a la SPD, cuenta pública anual.",
    ),
    "council": Subcommand(
        "app.council.cli", "app", "Consejo Comunal: integrantes, sesiones y compromisos."
    ),
    "activities": Subcommand(
        "app.activities.cli", "app", "Actividades de prevención: importar, listar, evidencias."
    ),
    "audit": Subcommand("app.audit.cli", "app", "Bitácora de auditoría."),
    "privacy": Subcommand("app.privacy.cli", "app", "Privacidad de las salidas públicas."),
}


def load_subcommand(name: str) -> Any:
    """The click command of one subcommand, importing its module now.

    It is built exactly as `add_typer` / `command` on the root would build it (a typer with
    one command would otherwise collapse into that command: `vigia db upgrade` must stay a
    group with its subcommand).
    """
    entry = SUBCOMMANDS[name]
    # The import builds a few hundred thousand long-lived objects (SQLAlchemy, matplotlib,
    # WeasyPrint's modules...): the cyclic collector would scan them again and again while
    # they load (0.3-0.5 s of `vigia report bulletin`), then at every later full collection.
    gc.disable()
    try:
        module = importlib.import_module(entry.module)
    finally:
        gc.enable()
    gc.freeze()
    target: Any = getattr(module, entry.attribute)
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name, help=entry.help)(target)

    @holder.callback()
    def _holder() -> None:  # a callback keeps the holder a group with `name` inside
        pass

    group: Any = typer.main.get_command(holder)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """A group whose subcommands are imported only when one is run (or its help asked)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        return load_subcommand(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # the listing reads the help registered here, so `vigia --help` imports nothing
        rows = [(name, entry.help) for name, entry in SUBCOMMANDS.items()]
        with formatter.section("Comandos"):
            formatter.write_dl(rows)


cli = typer.Typer(
    cls=LazyGroup,
    help="Vigía: sistema de información territorial para la seguridad pública comunal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@cli.callback()
def _root() -> None:
    """Vigía: sistema de información territorial para la seguridad pública comunal."""


def main() -> None:
    cli()
