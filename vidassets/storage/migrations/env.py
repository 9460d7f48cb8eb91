"""Alembic environment: URL from the caller (``vidassets migrate``) or from Settings.

The version table has its own name so vidassets can share a database with Dagster's storage,
which keeps its own ``alembic_version``.
"""

from __future__ import annotations

from alembic import context

from vidassets.storage.models import Base

VERSION_TABLE = "vidassets_alembic_version"
config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from vidassets.settings import get_settings

    url = get_settings().resolved_database_url


def run_migrations() -> None:
    from vidassets.storage.db import get_engine

    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            version_table=VERSION_TABLE,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
