"""Durable state: SQLAlchemy Core tables, repositories and Alembic migrations (SQLite or PostgreSQL)."""

from .database import Database

__all__ = ["Database"]
