"""API key changes announced on `NOTIFY vigia_api_key`: the key caches evict them at once.

Each process remembers verified keys for a few seconds (app/identity/key_cache.py); this
trigger tells every process, on commit, which key to forget. In the database rather than in
the revoke service, so a revocation from the CLI, from the API, from another version of the
service or from a hand-written SQL statement all reach the caches. The payload is the key's
prefix (the cache's index; never the secret's digest). Only the columns a cached key carries
wake the caches: the `last_used_at` stamp an authentication writes does not.

Revision ID: 0010_api_key_notify
Revises: 0009_updated_at
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_api_key_notify"
down_revision: str | Sequence[str] | None = "0009_updated_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN  -- no row: forget every key
                PERFORM pg_notify('vigia_api_key', '*');
                RETURN NULL;
            END IF;
            PERFORM pg_notify('vigia_api_key', OLD.prefix);
            IF TG_OP = 'UPDATE' THEN
                IF NEW.prefix IS DISTINCT FROM OLD.prefix THEN
                    PERFORM pg_notify('vigia_api_key', NEW.prefix);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER trg_api_key_notify_update AFTER UPDATE ON api_key FOR EACH ROW
        WHEN ((OLD.prefix, OLD.key_hash, OLD.name, OLD.role, OLD.institution, OLD.unit,
               OLD.comuna_code, OLD.expires_at, OLD.revoked_at)
              IS DISTINCT FROM
              (NEW.prefix, NEW.key_hash, NEW.name, NEW.role, NEW.institution, NEW.unit,
               NEW.comuna_code, NEW.expires_at, NEW.revoked_at))
        EXECUTE FUNCTION notify_api_key_change()
        """
    )
    op.execute(
        "CREATE TRIGGER trg_api_key_notify_delete AFTER DELETE ON api_key "
        "FOR EACH ROW EXECUTE FUNCTION notify_api_key_change()"
    )
    op.execute(
        "CREATE TRIGGER trg_api_key_notify_truncate AFTER TRUNCATE ON api_key "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_api_key_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_api_key_notify_truncate ON api_key")
    op.execute("DROP TRIGGER trg_api_key_notify_delete ON api_key")
    op.execute("DROP TRIGGER trg_api_key_notify_update ON api_key")
    op.execute("DROP FUNCTION notify_api_key_change()")
