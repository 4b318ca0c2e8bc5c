"""Persistence: SQLAlchemy 2 tables and the engine/session factory."""
