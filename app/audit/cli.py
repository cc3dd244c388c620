"""`vigia audit`: verify the trail (hash chain, seals, anchors), anchor its head, make keys."""

from enum import StrEnum
from pathlib import Path

import typer

from app.audit import anchor as audit_anchor
from app.audit import keys as audit_keys
from app.audit import trail as audit
from app.cli.common import console, out, transaction
from app.settings import get_audit_settings

app = typer.Typer(help="Bitácora de auditoría.", no_args_is_help=True)

AnchorOpt = typer.Option(
    None,
    "--anchor",
    help="Línea de ancla impresa (p. ej. la del boletín) que la bitácora debe contener; repetible.",
)
AnchorsFileOpt = typer.Option(
    None, "--anchors-file", help="Archivo con una línea de ancla por renglón.", exists=True
)


def _printed(anchor: list[str] | None, anchors_file: Path | None) -> list[str]:
    lines = list(anchor or [])
    if anchors_file is not None:
        lines += audit_anchor.read_journal(anchors_file)
    return lines + audit_anchor.read_journal(get_audit_settings().anchor_journal)


@app.command("verify")
def verify(
    anchor: list[str] | None = AnchorOpt,
    anchors_file: Path | None = AnchorsFileOpt,
) -> None:
    """Recalcula la cadena de hashes, revisa sellos y anclas; sale con 1 e indica el primer
    eslabón roto.
    """
    with transaction() as session:
        result = audit.verify(session, _printed(anchor, anchors_file))
    for note in result.notes:
        console.print(f"[yellow]Aviso:[/yellow] {note}.")
    if result.ok:
        out.print(
            f"Bitácora íntegra: {result.checked} eventos verificados, {result.sealed} sellos "
            f"válidos, {result.anchors} anclas coinciden."
        )
        return
    where = (
        f"primer eslabón roto en el evento {result.first_broken_id}"
        if result.first_broken_id is not None
        else "bitácora incompleta"
    )
    out.print(
        f"[red]Bitácora alterada:[/red] {where} ({result.reason}; "
        f"{result.checked} eventos revisados)."
    )
    raise typer.Exit(1)


@app.command("anchor")
def anchor() -> None:
    """Verifica la bitácora y firma su cabeza (cuenta y hash) con VIGIA_AUDIT_ANCHOR_KEY_FILE;
    imprime la línea del ancla y la agrega a VIGIA_AUDIT_ANCHOR_JOURNAL.
    """
    journal = get_audit_settings().anchor_journal
    with transaction() as session:
        made = audit.anchor(session, audit_anchor.read_journal(journal))
    audit_anchor.append_journal(journal, made)  # only once committed
    out.print(made.line, soft_wrap=True, markup=False, highlight=False)


class KeyKind(StrEnum):
    EVENT = "evento"
    ANCHOR = "ancla"


_KEY_SETTINGS = {
    KeyKind.EVENT: ("VIGIA_AUDIT_EVENT_KEY_FILE", "VIGIA_AUDIT_EVENT_PUBLIC_KEYS"),
    KeyKind.ANCHOR: ("VIGIA_AUDIT_ANCHOR_KEY_FILE", "VIGIA_AUDIT_ANCHOR_PUBLIC_KEYS"),
}


@app.command("keygen")
def keygen(
    path: Path = typer.Argument(..., help="Archivo nuevo para la clave privada (modo 0600)."),
    kind: KeyKind = typer.Option(KeyKind.EVENT, "--kind", help="evento o ancla."),
) -> None:
    """Crea un par de claves Ed25519: la privada en PATH, la pública en pantalla."""
    try:
        public = audit_keys.write_private_key(path)
    except FileExistsError:
        console.print(f"[red]{path} ya existe:[/red] no se sobrescribe una clave.")
        raise typer.Exit(1) from None
    private_var, public_var = _KEY_SETTINGS[kind]
    console.print(
        f"Clave privada en {path}: defina {private_var}={path} solo donde se firma "
        f"(ver docs/seguridad.md). Clave pública, para {public_var} y para quien audita:"
    )
    out.print(audit_keys.public_text(public), soft_wrap=True, markup=False, highlight=False)
