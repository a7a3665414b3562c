"""Relational storage through SQLAlchemy Core: SQLite (embedded default) or PostgreSQL."""
