"""Alembic environment: URL from the caller (``vidassets migrate``) or from Settings."""

from __future__ import annotations

from alembic import context

from vidassets.storage.models import Base

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
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
