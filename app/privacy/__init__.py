"""Privacy rules for public outputs: small-cell suppression over the linked public tables,
the interval audit (LP, HiGHS) that proves no hidden cell is pinned, and the output scanner.

Pure code (no FastAPI, no database) except `runner`, which fetches the live outputs:
DOMAIN.md's "Privacy rules" as functions.
"""
