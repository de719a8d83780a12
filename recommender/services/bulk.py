"""Bulk writes of computed list rows: COPY and UPDATE ... FROM VALUES on PostgreSQL, Django's bulk
methods elsewhere.

A full refresh writes hundreds of thousands of rows (every page's list, every product's related
products and articles). Django's `bulk_create` and `bulk_update` build a model instance per row and
an expression per value, which costs more than the scoring; PostgreSQL's COPY streams plain tuples.
Rows are given as tuples in the order of `fields`; like the bulk methods, no signal is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from django.db import connections, models, router

from recommender.adapters import ids_filter
from recommender.fields import JSONTextField

Row = Sequence[Any]


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> int:
    """Insert rows (tuples of `fields`, by attname); returns how many. Auto primary keys are left to the database."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if not streams(connection):
        model._default_manager.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows], 2000)
        return len(rows)
    with connection.cursor() as cursor:
        copy_rows(connection, cursor, connection.ops.quote_name(model._meta.db_table), concrete(model, fields), rows)
    return len(rows)


def copy_rows(
    connection: Any, cursor: Any, table: str, columns: Sequence[models.Field[Any, Any]], rows: Sequence[Row]
) -> None:
    """COPY rows into the (quoted) table's columns, converting only the values that need it."""
    # Most columns are ints and floats, sent as they are.
    convert = [(i, p) for i, p in enumerate(preparer(field, connection) for field in columns) if p is not as_is]
    quote = connection.ops.quote_name
    with cursor.cursor.copy(f"COPY {table} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN") as copy:
        for row in rows:
            values = list(row)
            for i, prepare in convert:
                values[i] = prepare(values[i])
            copy.write_row(values)


def rows_update(model: type[models.Model], key: str, fields: Sequence[str], rows: Sequence[Row]) -> int:
    """Set `fields` on the rows whose `key` is each tuple's first value; returns how many tuples."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        by_key = {row[0]: row[1:] for row in rows}
        objs = list(model._default_manager.filter(**{f"{key}__in": list(by_key)}))
        for obj in objs:
            for name, value in zip(fields, by_key[getattr(obj, key)], strict=True):
                setattr(obj, name, value)
        model._default_manager.bulk_update(objs, list(fields), batch_size=500)
        return len(rows)
    opts = model._meta
    columns = concrete(model, [key, *fields])
    prepare = [preparer(field, connection) for field in columns]
    quote = connection.ops.quote_name
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    assign = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    names = ", ".join(quote(f.column) for f in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            batch = rows[start : start + 1000]
            values = ", ".join(f"({', '.join(casts)})" for _ in batch)
            params = [p(v) for row in batch for p, v in zip(prepare, row, strict=True)]
            # Identifiers come from the model's metadata, quoted; values are parameters.
            table, match = quote(opts.db_table), quote(columns[0].column)
            sql = f"UPDATE {table} AS t SET {assign} FROM (VALUES {values}) AS v ({names}) WHERE t.{match} = v.{match}"  # noqa: S608
            cursor.execute(sql, params)
    return len(rows)


def rows_upsert(model: type[models.Model], key: str, fields: Sequence[str], rows: Sequence[Row]) -> int:
    """Insert rows (tuples of `key` and `fields`), or set `fields` on the row with the same unique `key`;
    returns how many. A new row gets the model's defaults for the other fields.

    On PostgreSQL the rows are COPYed into a temporary table and moved with one INSERT ... ON CONFLICT,
    so new and existing rows take one path, and a row another transaction inserts meanwhile is updated,
    not an error. Elsewhere Django's `bulk_create` with `update_conflicts` does the same.
    """
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    names = [key, *fields]
    if not streams(connection):
        objs = [model(**dict(zip(names, row, strict=True))) for row in rows]
        manager = model._default_manager
        manager.bulk_create(objs, 500, update_conflicts=True, unique_fields=[key], update_fields=list(fields))
        return len(rows)
    given = concrete(model, names)
    others = [f for f in model._meta.concrete_fields if f not in given and not f.primary_key]
    defaults = [f.get_default() for f in others]
    quote = connection.ops.quote_name
    table, staged = quote(model._meta.db_table), quote(f"staged_{model._meta.db_table}")
    columns = [*given, *others]
    listed = ", ".join(quote(f.column) for f in columns)
    assign = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in given[1:])
    # Identifiers come from the model's metadata, quoted; values travel by COPY.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS SELECT {listed} FROM {table} WITH NO DATA")  # noqa: S608
        methods = compression_methods(connection, cursor, table)
        # Compressed once, as the table compresses them, and moved on as they are.
        alter = [
            f"ALTER COLUMN {quote(f.column)} SET COMPRESSION {methods[f.column]}"
            for f in columns
            if f.column in methods
        ]
        if alter:
            cursor.execute(f"ALTER TABLE {staged} {', '.join(alter)}")
        copy_rows(connection, cursor, staged, columns, [[*row, *defaults] for row in rows])
        cursor.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staged} ORDER BY 1 "  # noqa: S608
            f"ON CONFLICT ({quote(given[0].column)}) DO UPDATE SET {assign}"
        )
        cursor.execute(f"DROP TABLE {staged}")
    return len(rows)


def compression_methods(connection: Any, cursor: Any, table: str) -> dict[str, str]:
    """The columns of this (quoted) table, by unquoted name, with a compression method of their own (PostgreSQL 14 and
    later: migration 0013 gives the related lists' text lz4), and the method.

    A temporary table made from it with CREATE TABLE AS compresses with the server's default (pglz), and PostgreSQL
    moves a compressed value into another table as it is: without the same methods, the staged rows would be
    compressed the slower way, and stay so.
    """
    if connection.pg_version < 140000:
        return {}
    cursor.execute(
        "SELECT attname, attcompression FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attcompression <> ''",
        [table],
    )
    return {name: {"l": "lz4", "p": "pglz"}[code] for name, code in cursor.fetchall()}


def stored_ids(model: type[models.Model], key: str, listed: str, keys: Sequence[int]) -> dict[int, list[int]]:
    """What the stored lists of these `keys` list (`listed` of their rows, in rank order), by key.

    One query serves both questions a store asks of a chunk: whether each list's rows are all there,
    and whether a rewritten list lists other products than before.
    """
    found: dict[int, list[int]] = {}
    rows = model._default_manager.filter(ids_filter(key, keys)).order_by(key, "rank")
    for owner, value in rows.values_list(key, listed):
        found.setdefault(owner, []).append(value)
    return found


def relaxed_commit(model: type[models.Model]) -> None:
    """Let the open transaction commit without waiting for its WAL flush (PostgreSQL; elsewhere nothing).

    For computed lists only: they can always be computed again. If the database server itself crashes,
    at most the last fraction of a second of such commits is lost, each whole (a list with its
    fingerprint, never half a list), and the next refresh writes them again. A worker crash loses
    nothing committed. A full refresh commits once per chunk, and waiting for every flush cost seconds.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def light_compression(model: type[models.Model]) -> None:
    """Compress the open transaction's large values with lz4 rather than pglz (PostgreSQL built with lz4).

    Product pages' lists are a few kilobytes each and stored compressed; lz4 compresses them about twice
    as fast, for slightly more room. Values already stored keep their method; reading either is the same.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql" and connection.in_atomic_block and has_lz4(connection):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL default_toast_compression TO lz4")


def has_lz4(connection: Any) -> bool:
    """Whether this PostgreSQL server can compress with lz4 (asked once per connection)."""
    known = getattr(connection, "recommender_lz4", None)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            row = cursor.fetchone()
        known = connection.recommender_lz4 = bool(row and row[0])
    return bool(known)


def concrete(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    """The model's columns by attname ("page_id") or name ("page")."""
    by_name = {f.attname: f for f in model._meta.concrete_fields} | {f.name: f for f in model._meta.concrete_fields}
    return [by_name[name] for name in names]


def streams(connection: Any) -> bool:
    """PostgreSQL through psycopg 3 (the project's driver) streams COPY; a host on psycopg2 gets `bulk_create`."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)


def preparer(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """How one column's values reach the database: JSON as text, plain scalars as they are, anything
    else through the field (the conversion `bulk_create` applies)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        if encoder is None:  # orjson writes the same JSON about ten times faster
            return lambda value: None if value is None else orjson.dumps(value).decode()
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if isinstance(field, JSONTextField):  # its own conversion, without the field's chain of prep methods
        return field.get_prep_value
    if isinstance(field, models.IntegerField | models.FloatField | models.CharField | models.ForeignKey):
        return as_is
    return last_value_memo(lambda value: field.get_db_prep_save(value, connection))


def as_is(value: Any) -> Any:
    """A value the driver sends as it is."""
    return value


def last_value_memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` that remembers its last argument: a column such as `computed_at` holds one value for
    every row of a write, and converting it a million times costs seconds."""
    last: list[Any] = [object(), None]

    def converted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return converted
