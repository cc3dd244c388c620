"""`vigia`: the operator's command line (database, territory, keys, server, data)."""

import typer

from app.cli import (
    apikey,
    audit,
    categories,
    complaints,
    db,
    demo,
    privacy,
    rankings,
    report,
    serve,
    territory,
    webhooks,
)

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
