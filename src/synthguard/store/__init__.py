"""Persistence: SQLAlchemy 2 schema, Alembic migrations, repositories. SQLite default, Postgres for production."""
