"""Privacy rules for public outputs: small-cell suppression and the output scanner.

Pure code (no FastAPI, no database): DOMAIN.md's "Privacy rules" as functions.
"""
