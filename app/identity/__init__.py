"""Who is calling and what they may see: API keys, OIDC tokens, the row-scope rules every
surface applies (`access`), `/api/v1/me` and `vigia apikey`.
"""
