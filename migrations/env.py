from logging.config import fileConfig

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, create_engine

from app.models import Base
from app.settings import get_database_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# PostGIS and its extensions own these; autogenerate must not try to drop them.
_FOREIGN_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, obj_type, reflected, compare_to):  # type: ignore[no-untyped-def]
    if obj_type == "table" and name in _FOREIGN_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=get_database_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by `vigia db upgrade` or the test suite
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(get_database_settings().database_url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
