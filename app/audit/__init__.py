"""The audit trail: append-only, hash-chained, sealed events (`trail`), signed anchors
(`anchor`), their keys (`keys`), the admin routes and `vigia audit`.
"""
