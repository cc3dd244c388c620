"""Everything the public sees, and the rules it passes through (DOMAIN.md's "Privacy rules").

Public surfaces: `public_stats` (stats API), `public_page` (`/estadisticas` and its CSV),
`public_rankings`, `public_report` (the cuenta pública), `public_risk_factors` (what the
community sees of a factor), their `routes`. Rules, pure (no FastAPI, no database):
`suppression` (small cells and complementary suppression over `linked_tables`),
`interval_audit` (LP, HiGHS: no hidden cell is pinned) and `check` (the output scanner).
`runner` and `cli` (`vigia privacy check`) scan the live outputs.
"""
