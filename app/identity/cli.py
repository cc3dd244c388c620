from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from app.cli.common import console, out, transaction
from app.identity import api_keys, key_cache
from app.identity.key_cache import listener_conninfo
from app.models.api_key import Role
from app.settings import get_database_settings

app = typer.Typer(help="Claves de acceso a la API.", no_args_is_help=True)


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="A quién se entrega (persona o sistema)."),
    role: Role = typer.Option(..., "--role", help="police, unit, planner o admin."),
    institution: str = typer.Option(
        ..., "--institution", help="carabineros, pdi, fiscalia, municipalidad, ..."
    ),
    unit: str | None = typer.Option(None, "--unit", help="Unidad municipal (rol unit)."),
    days: int | None = typer.Option(
        365, "--days", min=1, help="Días de vigencia (0 o --no-expiry para sin vencimiento)."
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Clave sin vencimiento."),
) -> None:
    """Crea una clave. El secreto se muestra una sola vez: guárdelo."""
    if role == Role.UNIT and not unit:
        console.print(
            "[red]Una clave de rol unit necesita --unit (p. ej. 'Alumbrado público').[/red]"
        )
        raise typer.Exit(1)
    expires = None if no_expiry or not days else datetime.now(UTC) + timedelta(days=days)
    with transaction() as session:
        key, secret = api_keys.create_key(
            session, name=name, role=role, institution=institution, unit=unit, expires_at=expires
        )
    console.print(
        f"[green]Clave creada[/green] {key.prefix} ({role.value}, {key.institution}"
        f"{', vence ' + expires.strftime('%Y-%m-%d') if expires else ', sin vencimiento'})."
    )
    console.print("Guárdela ahora; no se puede volver a mostrar. Úsela como:")
    console.print(f"  Authorization: Bearer {secret}", highlight=False)
    console.print("  o, en QGIS y GDAL, HTTP Basic: usuario vigia, contraseña la clave.")
    out.print(secret, highlight=False)


@app.command("list")
def list_(
    all_: bool = typer.Option(False, "--all", help="Incluir las revocadas."),
) -> None:
    """Lista las claves (sin secretos)."""
    with transaction(audited=False) as session:
        keys = api_keys.list_keys(session, include_revoked=all_)
        table = Table(title="Claves de acceso")
        table.add_column("Prefijo", no_wrap=True)
        for column in ("Nombre", "Rol", "Institución", "Unidad", "Vence", "Estado"):
            table.add_column(column)
        now = datetime.now(UTC)
        for k in keys:
            state = (
                "revocada"
                if k.revoked_at
                else "expirada"
                if k.expires_at and k.expires_at <= now
                else "vigente"
            )
            table.add_row(
                k.prefix,
                k.name,
                k.role.value,
                k.institution,
                k.unit or "-",
                k.expires_at.strftime("%Y-%m-%d") if k.expires_at else "nunca",
                state,
            )
    out.print(table)


@app.command()
def revoke(prefix: str = typer.Argument(..., help="Prefijo de la clave (vga_xxxxxxxx).")) -> None:
    """Revoca una clave: deja de funcionar de inmediato."""
    conninfo = listener_conninfo(get_database_settings().database_url)
    with key_cache.acknowledged(conninfo, prefix) as acks, transaction() as session:
        key = api_keys.revoke_key(session, prefix)
    console.print(f"[green]Clave {key.prefix} ({key.name}) revocada.[/green]")
    if acks.missing:
        console.print(
            f"[yellow]{acks.missing} proceso(s) de Vigía no confirmaron haberla olvidado;"
            " si perdieron su conexión, su caché de claves está desactivada.[/yellow]"
        )
