"""Append-only, hash-chained audit trail; the application's database role vigia_app.

Revision ID: 0005_audit
Revises: 0004_rankings
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_audit"
down_revision: str | Sequence[str] | None = "0004_rankings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE audit_event_id_seq;
        CREATE TABLE audit_event (
            id bigint PRIMARY KEY,
            at timestamptz NOT NULL,
            request_id varchar(64),
            actor varchar(250) NOT NULL,
            role varchar(20),
            institution varchar(100),
            action varchar(60) NOT NULL,
            object_type varchar(60) NOT NULL,
            object_id varchar(200),
            outcome varchar(20) NOT NULL,
            detail jsonb NOT NULL DEFAULT '{}'::jsonb,
            prev_hash char(64) NOT NULL,
            hash char(64) NOT NULL
        );
        ALTER SEQUENCE audit_event_id_seq OWNED BY audit_event.id;
        CREATE INDEX ix_audit_event_at ON audit_event (at);
        CREATE INDEX ix_audit_event_object ON audit_event (object_type, object_id);
        COMMENT ON TABLE audit_event IS
            'Bitácora de auditoría: solo se agrega; cada fila encadena el hash de la anterior';

        -- The canonical text of a row, hashed with the previous row's hash.
        CREATE FUNCTION audit_event_digest(prev char(64), e audit_event) RETURNS char(64)
        LANGUAGE sql STABLE AS $$
            SELECT encode(sha256(convert_to(concat_ws(
                '|', prev, e.id::text,
                to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                coalesce(e.request_id, ''), e.actor, coalesce(e.role, ''),
                coalesce(e.institution, ''), e.action, e.object_type,
                coalesce(e.object_id, ''), e.outcome, e.detail::text
            ), 'UTF8')), 'hex')
        $$;

        -- Ids and hashes are assigned under one lock, so concurrent writers chain in id order.
        CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('vigia.audit_event'));
            NEW.id := nextval('audit_event_id_seq');
            NEW.at := clock_timestamp();
            SELECT hash INTO NEW.prev_hash FROM audit_event ORDER BY id DESC LIMIT 1;
            NEW.prev_hash := coalesce(NEW.prev_hash, repeat('0', 64));
            NEW.hash := audit_event_digest(NEW.prev_hash, NEW);
            RETURN NEW;
        END $$;

        CREATE FUNCTION audit_event_reject() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event es de solo agregar: % no permitido', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;

        CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_chain();
        CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_reject();
        CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_reject();

        -- The role the service runs as in production (VIGIA_DATABASE_ROLE=vigia_app): normal
        -- DML on application tables, but only INSERT and SELECT on the audit trail.
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigia_app') THEN
                CREATE ROLE vigia_app NOLOGIN;
            END IF;
            EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO vigia_app',
                           current_database());
        END $$;
        GRANT USAGE ON SCHEMA public TO vigia_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vigia_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO vigia_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vigia_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO vigia_app;
        REVOKE ALL ON audit_event FROM vigia_app;
        GRANT SELECT, INSERT ON audit_event TO vigia_app;
        REVOKE ALL ON alembic_version FROM vigia_app;
        GRANT SELECT ON alembic_version TO vigia_app;
        """
    )


def downgrade() -> None:
    # The role is cluster-wide and may serve other databases: only this database's grants go.
    op.execute(
        """
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM vigia_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM vigia_app;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vigia_app;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM vigia_app;
        REVOKE USAGE ON SCHEMA public FROM vigia_app;
        DO $$
        BEGIN
            EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM vigia_app',
                           current_database());
        END $$;
        DROP FUNCTION audit_event_digest(char, audit_event);
        DROP TABLE audit_event;
        DROP FUNCTION audit_event_chain();
        DROP FUNCTION audit_event_reject();
        """
    )
