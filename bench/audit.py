"""What sealing the audit trail costs: writing an event and verifying the trail, with and
without the service's Ed25519 key.

    python -m bench.audit [--events 3000]

Runs in one transaction on the bench database and rolls it back; the key is a throwaway
one in a temporary directory. Prints microseconds per event and the ratios.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from app.audit import keys as audit_keys
from app.audit import trail as audit
from app.settings import get_audit_settings
from bench.common import bench_engine


def _run(session: Session, events: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    for i in range(events):
        audit.record(session, "bench.audit", "bench", i, detail={"i": i, "x": [1, 2.5, "a"]})
    written = time.perf_counter()
    result = audit.verify(session)
    verified = time.perf_counter()
    assert result.ok, result
    return (
        1e6 * (written - start) / events,
        1e6 * (verified - written) / result.checked,
        result.sealed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    engine = bench_engine()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "evento.pem"
        audit_keys.write_private_key(key)
        for sealed in (False, True):
            if sealed:
                os.environ["VIGIA_AUDIT_EVENT_KEY_FILE"] = str(key)
            get_audit_settings.cache_clear()
            with engine.connect() as conn:
                outer = conn.begin()
                figures[sealed] = _run(Session(bind=conn), args.events)
                outer.rollback()
        os.environ.pop("VIGIA_AUDIT_EVENT_KEY_FILE", None)
        get_audit_settings.cache_clear()
    for sealed, (write_us, verify_us, seals) in figures.items():
        label = "con sello" if sealed else "sin sello"
        print(
            f"{label}: escribir {write_us:.0f} µs/evento, verificar {verify_us:.0f} µs/evento "
            f"({seals} sellos)"
        )
    print(
        f"razón con/sin sello: escribir {figures[True][0] / figures[False][0]:.2f}x, "
        f"verificar {figures[True][1] / figures[False][1]:.2f}x"
    )


if __name__ == "__main__":
    main()
