"""Numbered schema migrations: ``mNNN_<what>.py`` modules, each with a ``SQL`` string.

Applied in number order, each in its own transaction, and recorded in ``schema_migrations``.
Never edit a released migration: add the next number.
"""
