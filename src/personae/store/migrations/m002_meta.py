"""A small key/value table for bookkeeping (which bundled characters were installed, …)."""

SQL = """
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""
