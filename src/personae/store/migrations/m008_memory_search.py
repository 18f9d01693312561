"""Memory search in the database, for PostgreSQL (issue 19).

Several server processes on one PostgreSQL share one index, the database's, instead of each
holding its own copy of every partition it served (SQLite keeps the in-process index: nothing
here for it). Generated columns, kept by the database whenever a memory's search keys change:

- ``terms``: the retrieval tokens as an array, with a GIN index, so the memories sharing any
  word with a query are found without reading the partition (BM25 is then scored over them, with
  the partition's size and mean length, as the in-process index scores it);
- ``embedding`` (where the ``vector`` extension, pgvector, is installed or can be): the int8 code
  times its scale as a pgvector ``vector``, so the nearest memories of a partition are ranked in
  the database (see :data:`personae.store.postgres.VECTOR_SEARCH`). Without pgvector the dense
  half of a search reads the partition's stored codes; ``personae db migrate`` adds the column
  once the extension can be had.
"""

from personae.store.postgres import VECTOR_SEARCH

SQL = ""  # SQLite: the in-process index (personae.memory.bank)

# Statements run as they are (the DO block holds semicolons of its own).
POSTGRESQL = (
    "ALTER TABLE memories ADD COLUMN terms TEXT[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX memories_by_terms ON memories USING gin (terms)",
    VECTOR_SEARCH,
)
