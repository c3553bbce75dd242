"""One interface over SQLite FTS5 and PostgreSQL full-text search.

An app that wants its objects searchable keeps a *document table*: one row per object, keyed by
the object's id, with one text column per field group holding the space-separated terms from
``kefu.search.tokens``. This module creates the engine's index over that table (in a migration)
and answers "which ids match, best first".

- **SQLite**: an external-content FTS5 table with the ``ascii`` tokenizer (which splits only on
  ASCII spaces and punctuation, so our terms arrive as they are), kept in step with the document
  table by triggers; ranking by ``bm25()`` with per-column weights.
- **PostgreSQL**: a stored generated ``tsvector`` column built with the ``simple`` configuration
  (no stemming or stop words: the terms are final), one weight letter per column (A, B, C, D),
  and a GIN index on it; ranking by ``ts_rank``. A stored vector rather than an expression index:
  phrase matches (every Chinese word of three or more characters) and ranking read the vector of
  every candidate row, and re-parsing the text for each would cost far more than the disk.

Ranking looks at a window of the newest matches (``RANK_WINDOW``): a word that occurs in half of
a million tickets must not make every search rank half a million rows. More specific queries
(another word, a filter) reach older tickets.
"""

# ruff: noqa: S608 - table and column names come from TextIndex definitions in code; whatever
# a user typed is always passed as a query parameter.
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

RANK_WINDOW = 1000
_PG_WEIGHTS = "ABCD"


@dataclass(frozen=True)
class TextIndex:
    """A document table: ``key`` is the id of the searched object, ``columns`` its term columns,
    most important first, with relative ``weights``."""

    table: str
    key: str
    columns: tuple[str, ...]
    weights: tuple[float, ...]

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    vector_column = "search_vector"

    @property
    def gin_index(self) -> str:
        return f"{self.table}_vector_gin"


def fts5_phrase(terms: tuple[str, ...]) -> str:
    # Terms contain no quotes or spaces (see kefu.search.tokens), so quoting is safe.
    return '"' + " ".join(terms) + '"'


def tsquery_phrase(terms: tuple[str, ...], weights: str) -> str:
    suffix = f":{weights}" if weights else ""
    return "(" + " <-> ".join(f"'{term}'{suffix}" for term in terms) + ")"


class SearchBackend:
    vendor = ""

    def __init__(self, connection: BaseDatabaseWrapper | None = None):
        self.connection = connection or default_connection

    # --- schema (run from migrations) ------------------------------------------------------

    def create_sql(self, index: TextIndex) -> list[str]:
        raise NotImplementedError

    def drop_sql(self, index: TextIndex) -> list[str]:
        raise NotImplementedError

    def rebuild(self, index: TextIndex) -> None:
        """Rebuild the engine's index from the document table (after a bulk load)."""
        raise NotImplementedError

    # --- queries ---------------------------------------------------------------------------

    def ranked_ids(self, index: TextIndex, include, exclude, **options) -> list[int]:
        """Ids matching every ``include`` phrase and no ``exclude`` phrase (see ``ranked_sql``)."""
        sql, params = self.ranked_sql(index, include, exclude, **options)
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def ranked_sql(
        self,
        index: TextIndex,
        include: list[tuple[str, ...]],
        exclude: list[tuple[str, ...]],
        *,
        columns: tuple[str, ...],
        candidates: tuple[str, list] | None,
        limit: int,
        offset: int = 0,
    ) -> tuple[str, list]:
        """SQL for the ids matching every ``include`` phrase and no ``exclude`` phrase in ``columns``,
        restricted to ids returned by the ``candidates`` SQL (if given), best first then newest;
        at most ``limit`` from ``offset`` within the newest ``RANK_WINDOW`` matches."""
        raise NotImplementedError

    def matching_ids_sql(
        self, index: TextIndex, phrases: list[tuple[str, ...]], *, columns: tuple[str, ...]
    ) -> tuple[str, list]:
        """SQL selecting the ids whose ``columns`` contain any of ``phrases`` (for exclusions
        without any positive term)."""
        raise NotImplementedError


class SqliteBackend(SearchBackend):
    vendor = "sqlite"

    def create_sql(self, index: TextIndex) -> list[str]:
        columns = ", ".join(index.columns)
        new_values = ", ".join(f"new.{c}" for c in index.columns)
        old_values = ", ".join(f"old.{c}" for c in index.columns)
        fts = index.fts_table
        delete = (
            f"INSERT INTO {fts}({fts}, rowid, {columns}) VALUES ('delete', old.{index.key}, "
            f"{old_values});"
        )
        insert = f"INSERT INTO {fts}(rowid, {columns}) VALUES (new.{index.key}, {new_values});"
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, content='{index.table}', "
            f"content_rowid='{index.key}', tokenize='ascii')",
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {index.table} BEGIN {insert} END",
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {index.table} BEGIN {delete} END",
            f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {index.table} BEGIN {delete} {insert} END",
        ]

    def drop_sql(self, index: TextIndex) -> list[str]:
        fts = index.fts_table
        return [
            *(f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")),
            f"DROP TABLE IF EXISTS {fts}",
        ]

    def rebuild(self, index: TextIndex) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {index.fts_table}({index.fts_table}) VALUES ('rebuild')")

    def _match(self, index: TextIndex, expression: str, columns: tuple[str, ...]) -> str:
        if set(columns) == set(index.columns):
            return expression
        return "{" + " ".join(columns) + "} : (" + expression + ")"

    def ranked_sql(self, index, include, exclude, *, columns, candidates, limit, offset=0):
        expression = " AND ".join(fts5_phrase(p) for p in include)
        for phrase in exclude:
            expression = f"({expression}) NOT {fts5_phrase(phrase)}"
        fts = index.fts_table
        weights = ", ".join(str(w) for w in index.weights)
        params: list = [self._match(index, expression, columns)]
        restriction = ""
        if candidates is not None:
            # "+rowid": keep the list out of FTS5, which would run the MATCH once per listed id.
            restriction = f" AND +rowid IN ({candidates[0]})"
            params += candidates[1]
        sql = (
            f"SELECT id FROM (SELECT rowid AS id, bm25({fts}, {weights}) AS score FROM {fts} "
            f"WHERE {fts} MATCH %s{restriction} ORDER BY rowid DESC LIMIT {RANK_WINDOW}) "
            "ORDER BY score, id DESC LIMIT %s OFFSET %s"
        )
        return sql, [*params, limit, offset]

    def matching_ids_sql(self, index, phrases, *, columns):
        expression = " OR ".join(fts5_phrase(p) for p in phrases)
        fts = index.fts_table
        return (
            f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s",
            [self._match(index, expression, columns)],
        )


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def vector_expression(self, index: TextIndex) -> str:
        return " || ".join(
            f"setweight(to_tsvector('simple', coalesce({column}, '')), '{_PG_WEIGHTS[i]}')"
            for i, column in enumerate(index.columns)
        )

    def create_sql(self, index: TextIndex) -> list[str]:
        return [
            f"ALTER TABLE {index.table} ADD COLUMN {index.vector_column} tsvector "
            f"GENERATED ALWAYS AS ({self.vector_expression(index)}) STORED",
            f"CREATE INDEX {index.gin_index} ON {index.table} USING gin ({index.vector_column})",
        ]

    def drop_sql(self, index: TextIndex) -> list[str]:
        return [
            f"DROP INDEX IF EXISTS {index.gin_index}",
            f"ALTER TABLE {index.table} DROP COLUMN IF EXISTS {index.vector_column}",
        ]

    def rebuild(self, index: TextIndex) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"REINDEX INDEX {index.gin_index}")

    def _weights(self, index: TextIndex, columns: tuple[str, ...]) -> str:
        if set(columns) == set(index.columns):
            return ""
        return "".join(_PG_WEIGHTS[index.columns.index(c)] for c in columns)

    def _rank_weights(self, index: TextIndex, columns: tuple[str, ...]) -> str:
        # ts_rank takes weights in [0, 1] for D, C, B, A; a column outside ``columns`` counts 0.
        top = max(index.weights)
        by_letter = {_PG_WEIGHTS[i]: index.weights[i] / top for i in range(len(index.columns))}
        allowed = {_PG_WEIGHTS[index.columns.index(c)] for c in columns}
        values = [by_letter.get(letter, 0.0) if letter in allowed else 0.0 for letter in "DCBA"]
        return "{" + ", ".join(str(v) for v in values) + "}"

    def tsquery(self, index, include, exclude, columns) -> str:
        weights = self._weights(index, columns)
        parts = [tsquery_phrase(p, weights) for p in include]
        parts += [f"!{tsquery_phrase(p, weights)}" for p in exclude]
        return " & ".join(parts)

    def ranked_sql(self, index, include, exclude, *, columns, candidates, limit, offset=0):
        query = self.tsquery(index, include, exclude, columns)
        vector = index.vector_column
        restriction = ""
        params: list = [query]
        if candidates is not None:
            restriction = f" AND {index.key} IN ({candidates[0]})"
            params += candidates[1]
        sql = (
            f"SELECT id FROM (SELECT {index.key} AS id, {vector} AS vector FROM {index.table} "
            f"WHERE {vector} @@ to_tsquery('simple', %s){restriction} "
            f"ORDER BY {index.key} DESC LIMIT {RANK_WINDOW}) AS window_ "
            f"ORDER BY ts_rank('{self._rank_weights(index, columns)}', vector, "
            "to_tsquery('simple', %s), 1) DESC, id DESC LIMIT %s OFFSET %s"
        )
        return sql, [*params, query, limit, offset]

    def matching_ids_sql(self, index, phrases, *, columns):
        weights = self._weights(index, columns)
        query = " | ".join(tsquery_phrase(p, weights) for p in phrases)
        return (
            f"SELECT {index.key} FROM {index.table} "
            f"WHERE {index.vector_column} @@ to_tsquery('simple', %s)",
            [query],
        )


def backend_for(connection: BaseDatabaseWrapper | None = None) -> SearchBackend:
    connection = connection or default_connection
    if connection.vendor == "postgresql":
        return PostgresBackend(connection)
    if connection.vendor == "sqlite":
        return SqliteBackend(connection)
    raise NotImplementedError(f"Search is not available on {connection.vendor}")
