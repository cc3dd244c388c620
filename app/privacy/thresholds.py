"""The privacy thresholds of DOMAIN.md, defined once.

Every producer of a public output (statistics, report, rankings, map) and the scanner that
checks them (`vigia privacy check`) import these names: changing one here changes what is
suppressed and what the scanner calls a leak, together. Pure: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

GENERAL_THRESHOLD = 5  # counts 1..4 are hidden ("<5")
SENSITIVE_THRESHOLD = 10  # sensitive categories and any rate: 1..9 are hidden ("<10")
MIN_POPULATION = 1_000  # barrios with fewer residents are merged ("otros") or withheld
PUBLIC_DECIMALS = 5  # decimal digits of a public coordinate (about 1 m)


def thousands(value: int) -> str:
    """Chilean style, as the pages print it: 1.000."""
    return f"{value:,}".replace(",", ".")


def template_globals() -> dict[str, object]:
    """The thresholds as the public pages and reports word them."""
    return {
        "general_threshold": GENERAL_THRESHOLD,
        "sensitive_threshold": SENSITIVE_THRESHOLD,
        "min_population": thousands(MIN_POPULATION),
    }
