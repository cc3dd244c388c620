"""Audit trail an outsider can trust: sealed events written only through a definer
function, and signed anchors of the chain's head.

- `audit_event` gains `nonce` (unique: a sealed event cannot be replayed) and `seal` (the
  service's Ed25519 signature of the event, made with a key the database never holds). The
  digest covers both; `concat_ws` skips NULLs, so the hashes of older rows do not change.
- `vigia_app` loses INSERT on `audit_event`: events go in only through `audit_append`
  (SECURITY DEFINER, owned by the schema owner, search_path pinned).
- `audit_anchor`: append-only, signed (count, head id, head hash) of the chain, made by
  `vigia audit anchor` with a key held outside the database.

Revision ID: 0007_audit_anchors
Revises: 0006_reports
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_audit_anchors"
down_revision: str | Sequence[str] | None = "0006_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ARGS = "text, text, text, text, text, text, text, text, jsonb, uuid, text"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE audit_event ADD COLUMN nonce uuid, ADD COLUMN seal text;
        CREATE UNIQUE INDEX ux_audit_event_nonce ON audit_event (nonce);

        CREATE OR REPLACE FUNCTION audit_event_digest(prev char(64), e audit_event)
        RETURNS char(64) LANGUAGE sql STABLE AS $$
            SELECT encode(sha256(convert_to(concat_ws(
                '|', prev, e.id::text,
                to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                coalesce(e.request_id, ''), e.actor, coalesce(e.role, ''),
                coalesce(e.institution, ''), e.action, e.object_type,
                coalesce(e.object_id, ''), e.outcome, e.detail::text,
                e.nonce::text, e.seal
            ), 'UTF8')), 'hex')
        $$;
        -- Called from the definer function below: resolve names in public, never pg_temp.
        ALTER FUNCTION audit_event_chain() SET search_path = public, pg_temp;
        ALTER FUNCTION audit_event_digest(char, audit_event) SET search_path = public, pg_temp;

        CREATE FUNCTION audit_append(
            p_request_id text, p_actor text, p_role text, p_institution text,
            p_action text, p_object_type text, p_object_id text, p_outcome text,
            p_detail jsonb, p_nonce uuid, p_seal text
        ) RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            INSERT INTO public.audit_event (
                id, at, request_id, actor, role, institution, action, object_type,
                object_id, outcome, detail, nonce, seal, prev_hash, hash
            ) VALUES (
                0, now(), p_request_id, p_actor, p_role, p_institution, p_action,
                p_object_type, p_object_id, p_outcome, coalesce(p_detail, '{}'::jsonb),
                p_nonce, p_seal, '', ''
            )
            RETURNING id
        $$;
        COMMENT ON FUNCTION audit_append(%(args)s) IS
            'Única vía de escritura de la bitácora para vigia_app; id, hora y hashes los pone el trigger';
        REVOKE ALL ON FUNCTION audit_append(%(args)s) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION audit_append(%(args)s) TO vigia_app;
        REVOKE INSERT ON audit_event FROM vigia_app;

        CREATE TABLE audit_anchor (
            id bigserial CONSTRAINT pk_audit_anchor PRIMARY KEY,
            created_at timestamptz NOT NULL,
            event_count bigint NOT NULL CHECK (event_count >= 0),
            head_id bigint,
            head_hash char(64) NOT NULL,
            line text NOT NULL CONSTRAINT uq_audit_anchor_line UNIQUE
        );
        COMMENT ON TABLE audit_anchor IS
            'Anclas firmadas de la cabeza de la bitácora (cuenta y hash); solo se agrega';
        CREATE TRIGGER audit_anchor_no_update_delete BEFORE UPDATE OR DELETE ON audit_anchor
            FOR EACH ROW EXECUTE FUNCTION audit_event_reject();
        CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_reject();
        REVOKE ALL ON audit_anchor FROM vigia_app;
        GRANT SELECT, INSERT ON audit_anchor TO vigia_app;
        GRANT USAGE ON SEQUENCE audit_anchor_id_seq TO vigia_app;
        """
        % {"args": _APPEND_ARGS}
    )


def downgrade() -> None:
    # Events written under this revision hash their nonce: without the column their hashes
    # could no longer be checked, so going back is refused once there is one.
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM audit_event WHERE nonce IS NOT NULL) THEN
                RAISE EXCEPTION 'hay eventos con nonce: bajar de 0007 rompería su cadena';
            END IF;
        END $$;
        DROP TABLE audit_anchor;
        GRANT INSERT ON audit_event TO vigia_app;
        DROP FUNCTION audit_append(%(args)s);
        ALTER FUNCTION audit_event_chain() RESET search_path;
        ALTER FUNCTION audit_event_digest(char, audit_event) RESET search_path;
        CREATE OR REPLACE FUNCTION audit_event_digest(prev char(64), e audit_event)
        RETURNS char(64) LANGUAGE sql STABLE AS $$
            SELECT encode(sha256(convert_to(concat_ws(
                '|', prev, e.id::text,
                to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                coalesce(e.request_id, ''), e.actor, coalesce(e.role, ''),
                coalesce(e.institution, ''), e.action, e.object_type,
                coalesce(e.object_id, ''), e.outcome, e.detail::text
            ), 'UTF8')), 'hex')
        $$;
        DROP INDEX ux_audit_event_nonce;
        ALTER TABLE audit_event DROP COLUMN nonce, DROP COLUMN seal;
        """
        % {"args": _APPEND_ARGS}
    )
