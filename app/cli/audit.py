"""`vigia audit verify`: walk the hash chain of the audit trail."""

import typer

from app.cli.common import out, transaction
from app.services import audit

app = typer.Typer(help="Bitácora de auditoría.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Recalcula la cadena de hashes; sale con 1 e indica el primer eslabón roto."""
    with transaction() as session:
        result = audit.verify(session)
    if result.ok:
        out.print(f"Bitácora íntegra: {result.checked} eventos verificados.")
        return
    out.print(
        f"[red]Bitácora alterada:[/red] primer eslabón roto en el evento {result.first_broken_id} "
        f"({result.reason}; {result.checked} eventos revisados)."
    )
    raise typer.Exit(1)
