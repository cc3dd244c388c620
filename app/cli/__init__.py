"""`vigia`: the operator's command line (database, territory, keys, server, data)."""

import typer

from app.audit import cli as audit
from app.categories import cli as categories
from app.cli import db, serve
from app.complaints import cli as complaints
from app.demo import cli as demo
from app.identity import cli as apikey
from app.privacy import cli as privacy
from app.rankings import cli as rankings
from app.reports import cli as report
from app.risk_factors.webhooks import cli as webhooks
from app.territory import cli as territory

cli = typer.Typer(
    help="Vigía: sistema de información territorial para la seguridad pública comunal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(territory.app, name="territory")
cli.add_typer(apikey.app, name="apikey")
cli.add_typer(categories.app, name="categories")
cli.add_typer(complaints.app, name="complaints")
cli.add_typer(webhooks.app, name="webhooks")
cli.add_typer(rankings.app, name="rankings")
cli.add_typer(report.app, name="report")
cli.add_typer(audit.app, name="audit")
cli.add_typer(privacy.app, name="privacy")
cli.command("serve")(serve.serve)
cli.command("demo-data")(demo.demo_data_command)


def main() -> None:
    cli()
