"""Who is calling: the identity every route, service and audit event works with.

No database access here: a caller is resolved once per request (an API key by
`app.identity.api_keys`, a token by `app.identity.oidc`) and then only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.api_key import Role

# The width of every stored "who did it" column (complaint.loaded_by, ranking computed_by,
# report created_by, transition actor_name); the audit trail's actor column is wider.
ACTOR_MAX_CHARS = 200


@dataclass(frozen=True, slots=True)
class Caller:
    """A key's holder, a token's subject, or the anonymous public (role None)."""

    role: Role | None = None
    institution: str | None = None
    unit: str | None = None
    key_id: int | None = None
    key_name: str | None = None
    key_prefix: str | None = None
    subject: str | None = None  # OIDC `sub`, when the caller came with a token

    @property
    def is_public(self) -> bool:
        return self.role is None

    @property
    def actor(self) -> str:
        """The one "who did it" label: `<institution>/<key prefix>` for a key,
        `<institution>/oidc:<sub>` for a token, `publico` without either.

        Complaints (loaded_by), rankings and profiles (computed_by, created_by), generated
        reports (created_by), risk-factor timelines (actor name) and the audit trail all
        store this, so one search finds everything a caller did. The prefix, not the key's
        name, because prefixes are unique and never change.
        """
        if self.key_prefix:
            who = self.key_prefix
        elif self.subject:
            who = f"oidc:{self.subject}"
        else:
            return "publico"
        label = f"{self.institution}/{who}" if self.institution else who
        return label[:ACTOR_MAX_CHARS]


PUBLIC = Caller()
