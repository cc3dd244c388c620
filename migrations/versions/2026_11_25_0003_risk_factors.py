"""Risk factors: type catalog (seeded), reports, lifecycle, photos, projects, idempotency,
webhook subscriptions and delivery outbox.

Revision ID: 0003_risk_factors
Revises: 0002_complaints
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial operations)
from sqlalchemy.dialects import postgresql

revision: str = "0003_risk_factors"
down_revision: str | Sequence[str] | None = "0002_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = postgresql.TIMESTAMP(timezone=True)

# The SPD situational-prevention catalog of DOMAIN.md. Admins edit it through the API.
_P, _L, _A = "Point", "LineString", "Polygon"
SEED_TYPES = [
    dict(code="luminaria_apagada", label="Luminaria apagada o deficiente", typology="IL",
         default_unit="Alumbrado público", expected_days=10, geometry_types=[_P],
         attributes_schema={
             "luminarias_afectadas": {"type": "integer", "label": "Luminarias apagadas", "min": 1, "max": 100},
             "poste_id": {"type": "string", "label": "Identificador del poste", "max_length": 40},
         }),
    dict(code="tramo_sin_iluminacion", label="Tramo sin iluminación", typology="IL",
         default_unit="Alumbrado público", expected_days=30, geometry_types=[_L, _A],
         attributes_schema={
             "luminarias_afectadas": {"type": "integer", "label": "Luminarias apagadas", "min": 0, "max": 500},
         }),
    dict(code="follaje_obstruye", label="Follaje o arbolado que obstruye visibilidad o luminarias",
         typology="REP", default_unit="Aseo y ornato", expected_days=20, geometry_types=[_P, _L, _A],
         attributes_schema={
             "obstruye_luminaria": {"type": "boolean", "label": "Tapa una luminaria"},
         }),
    dict(code="sitio_eriazo", label="Sitio eriazo", typology="REP",
         default_unit="Dirección de Obras Municipales", expected_days=60, geometry_types=[_P, _A],
         attributes_schema={
             "cerrado": {"type": "boolean", "label": "Tiene cierre perimetral"},
         }),
    dict(code="inmueble_abandonado", label="Inmueble abandonado", typology="REP",
         default_unit="Dirección de Obras Municipales", expected_days=90, geometry_types=[_P, _A],
         attributes_schema={}),
    dict(code="microbasural", label="Microbasural", typology="REP",
         default_unit="Aseo y ornato", expected_days=7, geometry_types=[_P, _A],
         attributes_schema={
             "volumen": {"type": "enum", "label": "Volumen aproximado",
                         "values": ["pequeño", "mediano", "grande"]},
         }),
    dict(code="sin_alarma_comunitaria", label="Sector sin alarma comunitaria", typology="AC",
         default_unit="Seguridad pública municipal", expected_days=120, geometry_types=[_P, _A],
         attributes_schema={
             "viviendas": {"type": "integer", "label": "Viviendas sin cobertura", "min": 1, "max": 5000},
         }),
    dict(code="espacio_publico_deteriorado",
         label="Espacio público deteriorado (plaza, paradero, cancha)", typology="REP",
         default_unit="SECPLA", expected_days=90, geometry_types=[_P, _A],
         attributes_schema={
             "tipo_espacio": {"type": "enum", "label": "Tipo de espacio",
                              "values": ["plaza", "paradero", "cancha", "otro"]},
         }),
    # Drug-related: never public below comuna level (DOMAIN.md, privacy rules).
    dict(code="punto_consumo_via_publica",
         label="Punto de consumo de alcohol o drogas en vía pública", typology=None,
         default_unit="Seguridad pública municipal", expected_days=30, geometry_types=[_P, _A],
         attributes_schema={}, public=False),
    dict(code="punto_ciego", label="Punto ciego sin vigilancia", typology="CTV",
         default_unit="Seguridad pública municipal", expected_days=120,
         geometry_types=[_P, _L, _A], attributes_schema={}),
]


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    typology = postgresql.ENUM("IL", "REP", "AC", "EQUIP", "CTV", name="typology")
    report_status = postgresql.ENUM(
        "reportado", "validado", "derivado", "en_gestion", "resuelto", "descartado", "duplicado",
        name="report_status",
    )
    project_status = postgresql.ENUM(
        "planificado", "en_ejecucion", "terminado", "cancelado", name="project_status"
    )
    delivery_status = postgresql.ENUM("pendiente", "entregada", "agotada", name="delivery_status")
    for enum in (typology, report_status, project_status, delivery_status):
        enum.create(op.get_bind(), checkfirst=False)
    typology = postgresql.ENUM(name="typology", create_type=False)
    report_status = postgresql.ENUM(name="report_status", create_type=False)
    project_status = postgresql.ENUM(name="project_status", create_type=False)
    delivery_status = postgresql.ENUM(name="delivery_status", create_type=False)

    type_table = op.create_table(
        "risk_factor_type",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("typology", typology, nullable=True),
        sa.Column("default_unit", sa.String(200), nullable=False),
        sa.Column("expected_days", sa.Integer(), nullable=False),
        sa.Column("geometry_types", postgresql.ARRAY(sa.String(20)), nullable=False),
        sa.Column("attributes_schema", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("public", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_risk_factor_type"),
        sa.UniqueConstraint("code", name="uq_risk_factor_type_code"),
    )
    op.bulk_insert(type_table, [{"public": True, **row} for row in SEED_TYPES])

    op.create_table(
        "intervention_project",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("typology", typology, nullable=False),
        sa.Column("status", project_status, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("budget_clp", sa.Numeric(14, 0), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_intervention_project"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_intervention_project_comuna_code_comuna", ondelete="RESTRICT"),
    )
    op.create_table(
        "project_barrio",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("barrio_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "barrio_id", name="pk_project_barrio"),
        sa.ForeignKeyConstraint(["project_id"], ["intervention_project.id"], name="fk_project_barrio_project_id_intervention_project", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["barrio_id"], ["barrio.id"], name="fk_project_barrio_barrio_id_barrio", ondelete="RESTRICT"),
    )

    op.create_geospatial_table(
        "risk_factor_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("status", report_status, nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", geoalchemy2.Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("received_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("institution", sa.String(100), nullable=False),
        sa.Column("reporting_unit", sa.String(200), nullable=True),
        sa.Column("officer_id", sa.String(60), nullable=True),
        sa.Column("reporter_key_id", sa.Integer(), nullable=True),
        sa.Column("responsible_unit", sa.String(200), nullable=True),
        sa.Column("barrio_id", sa.Integer(), nullable=True),
        sa.Column("micro_barrio_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("possible_duplicate_of_id", sa.Uuid(), nullable=True),
        sa.Column("duplicate_of_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_risk_factor_report"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="ck_risk_factor_report_severity_range"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_risk_factor_report_comuna_code_comuna", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["type_id"], ["risk_factor_type.id"], name="fk_risk_factor_report_type_id_risk_factor_type", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["reporter_key_id"], ["api_key.id"], name="fk_risk_factor_report_reporter_key_id_api_key", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["barrio_id"], ["barrio.id"], name="fk_risk_factor_report_barrio_id_barrio", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["micro_barrio_id"], ["micro_barrio.id"], name="fk_risk_factor_report_micro_barrio_id_micro_barrio", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["project_id"], ["intervention_project.id"], name="fk_risk_factor_report_project_id_intervention_project", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["possible_duplicate_of_id"], ["risk_factor_report.id"], name="fk_risk_factor_report_possible_duplicate_of_id", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["risk_factor_report.id"], name="fk_risk_factor_report_duplicate_of_id_risk_factor_report", ondelete="SET NULL"),
    )
    op.create_geospatial_index("idx_risk_factor_report_geom", "risk_factor_report", ["geom"], postgresql_using="gist")
    # The ~30 m duplicate search (ST_DWithin on geography) is backed by this one.
    op.execute("CREATE INDEX ix_risk_factor_report_geog ON risk_factor_report USING gist ((geom::geography))")
    op.create_index("ix_risk_factor_report_comuna_code_status", "risk_factor_report", ["comuna_code", "status"])
    op.create_index("ix_risk_factor_report_type_id", "risk_factor_report", ["type_id"])
    op.create_index("ix_risk_factor_report_responsible_unit", "risk_factor_report", ["responsible_unit"])
    op.create_index("ix_risk_factor_report_barrio_id", "risk_factor_report", ["barrio_id"])
    op.create_index("ix_risk_factor_report_project_id", "risk_factor_report", ["project_id"])

    op.create_table(
        "report_transition",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", report_status, nullable=True),
        sa.Column("to_status", report_status, nullable=False),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(20), nullable=True),
        sa.Column("actor_institution", sa.String(100), nullable=True),
        sa.Column("actor_unit", sa.String(200), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_transition"),
        sa.ForeignKeyConstraint(["report_id"], ["risk_factor_report.id"], name="fk_report_transition_report_id_risk_factor_report", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_key_id"], ["api_key.id"], name="fk_report_transition_actor_key_id_api_key", ondelete="SET NULL"),
    )
    op.create_index("ix_report_transition_report_id", "report_transition", ["report_id"])

    op.create_table(
        "report_photo",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_photo"),
        sa.ForeignKeyConstraint(["report_id"], ["risk_factor_report.id"], name="fk_report_photo_report_id_risk_factor_report", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_key_id"], ["api_key.id"], name="fk_report_photo_uploaded_by_key_id_api_key", ondelete="SET NULL"),
    )
    op.create_index("ix_report_photo_report_id", "report_photo", ["report_id"])

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(), nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_record"),
        sa.UniqueConstraint("key_id", "idempotency_key", name="uq_idempotency_record_key_id_idempotency_key"),
        sa.ForeignKeyConstraint(["key_id"], ["api_key.id"], name="fk_idempotency_record_key_id_api_key", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["report_id"], ["risk_factor_report.id"], name="fk_idempotency_record_report_id_risk_factor_report", ondelete="CASCADE"),
    )

    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscription"),
        sa.ForeignKeyConstraint(["created_by_key_id"], ["api_key.id"], name="fk_webhook_subscription_created_by_key_id_api_key", ondelete="SET NULL"),
    )
    op.create_index("ix_webhook_subscription_unit", "webhook_subscription", ["unit"])

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", delivery_status, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscription.id"], name="fk_webhook_delivery_subscription_id_webhook_subscription", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["report_id"], ["risk_factor_report.id"], name="fk_webhook_delivery_report_id_risk_factor_report", ondelete="SET NULL"),
    )
    op.create_index("ix_webhook_delivery_subscription_id", "webhook_delivery", ["subscription_id"])
    op.create_index("ix_webhook_delivery_status_next_attempt_at", "webhook_delivery", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    op.drop_table("idempotency_record")
    op.drop_table("report_photo")
    op.drop_table("report_transition")
    op.drop_geospatial_table("risk_factor_report")
    op.drop_table("project_barrio")
    op.drop_table("intervention_project")
    op.drop_table("risk_factor_type")
    for name in ("delivery_status", "project_status", "report_status", "typology"):
        op.execute(f"DROP TYPE IF EXISTS {name}")
