"""Reads and writes for the hottest request paths, with their SQL built once per process.

Why: on the busiest endpoints (a volunteer signing up or checking in while hundreds do the
same) the benchmark (issue 4, `python -m bench`) showed that compiling the ORM's SQL — not
running it — took most of the request's time: about a millisecond of CPU per query, several
times the database's own work. The functions here produce the same model instances and the same
rows as the ORM (a test compares them field by field on SQLite and PostgreSQL), but derive each
statement from the model's metadata once and reuse it.

Only for fixed, simple shapes (one table plus a few foreign keys, a fixed WHERE). Everything
else stays on the ORM. Values are always passed as parameters, never formatted into the SQL.

On PostgreSQL these statements are also prepared on the server: Django binds parameters on
the client (the whole query text is parsed and planned for every execution), while these fixed
statements go through a server-binding cursor, which psycopg prepares after a few executions
on a connection — a check-in's dozen statements then skip the parser and planner. Not behind
PgBouncer in transaction pooling (HONGFENG_DB_POOLER=pgbouncer): a prepared statement belongs
to one server session, and the next transaction may run on another.
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Model

__all__ = [
    "db_value",
    "execute",
    "fetch_all",
    "fetch_one",
    "insert",
    "insert_and_execute",
    "set_prefetched",
]


@dataclass(frozen=True)
class _Part:
    """One model in a select: where its columns sit in the row and how to turn them into
    Python values the way the ORM would."""

    model: type[Model]
    attnames: tuple[str, ...]
    start: int
    converters: tuple[tuple, ...]  # per column: (its expression, converters in the ORM's order)
    link: str | None  # the foreign key on the main model that holds this object


@dataclass(frozen=True)
class _Select:
    sql: str
    parts: tuple[_Part, ...]


def _cursor():
    """A cursor for the fixed statements: where settings.py enables prepared statements on the
    connection (PostgreSQL, not behind PgBouncer), a server-binding psycopg cursor wrapped by
    Django like its own — the same error translation, the same query log and counting; else
    Django's own cursor."""
    if connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is None:
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _converters(field, alias: str) -> tuple:
    """The backend's converters and then the field's, as the ORM's compiler applies them (some
    look at the column expression, so it is kept beside them)."""
    col = field.get_col(alias)
    return col, tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))


@cache
def _select(model: type[Model], related: tuple[str, ...], where: str, order: str, vendor: str):
    """Build (once per shape and database vendor) the SELECT for `model` joined to the targets
    of the foreign keys named in `related`. `where` and `order` refer to the main table as t0."""
    del vendor  # part of the cache key only: converters differ between backends
    columns, parts, joins = [], [], []
    tables = [(model, "t0", None)]
    for index, name in enumerate(related, start=1):
        fk = model._meta.get_field(name)
        alias = f"t{index}"
        kind = "LEFT JOIN" if fk.null else "INNER JOIN"
        target = fk.related_model
        joins.append(
            f"{kind} {_q(target._meta.db_table)} {alias} "
            f"ON {alias}.{_q(fk.target_field.column)} = t0.{_q(fk.column)}"
        )
        tables.append((target, alias, fk.name))
    for table_model, alias, link in tables:
        fields = table_model._meta.concrete_fields
        parts.append(
            _Part(
                model=table_model,
                attnames=tuple(f.attname for f in fields),
                start=len(columns),
                converters=tuple(_converters(f, alias) for f in fields),
                link=link,
            )
        )
        columns += [f"{alias}.{_q(f.column)}" for f in fields]
    # identifiers from the model's metadata and fixed conditions from our code; values are
    # always parameters
    sql = (
        f"SELECT {', '.join(columns)} FROM {_q(model._meta.db_table)} t0 "  # noqa: S608
        f"{' '.join(joins)} WHERE {where}{f' ORDER BY {order}' if order else ''}"
    )
    return _Select(sql=sql, parts=tuple(parts))


def _build(select: _Select, row) -> Model:
    objects = []
    for part in select.parts:
        values = list(row[part.start : part.start + len(part.attnames)])
        for i, (col, converters) in enumerate(part.converters):
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        pk = values[part.attnames.index(part.model._meta.pk.attname)]
        objects.append(
            None if pk is None else part.model.from_db(connection.alias, part.attnames, values)
        )
    main = objects[0]
    for part, obj in zip(select.parts[1:], objects[1:], strict=True):
        main._meta.get_field(part.link).set_cached_value(main, obj)
    return main


def fetch_all(model, where: str, params, *, related=(), order: str = "") -> list:
    """Instances of `model` (with the foreign keys in `related` loaded) matching `where`, a
    fixed SQL condition on alias t0 with %s placeholders."""
    select = _select(model, tuple(related), where, order, connection.vendor)
    with _cursor() as cursor:
        cursor.execute(select.sql, list(params))
        rows = cursor.fetchall()
    return [_build(select, row) for row in rows]


def fetch_one(
    model,
    where: str,
    params,
    *,
    related=(),
    order: str = "",
    lock: bool = False,
    skip_locked: bool = False,
):
    """The first instance `fetch_all` would return, or None. `lock` takes the main row's lock
    until the transaction ends; with `skip_locked`, rows another transaction holds are passed
    over (PostgreSQL; SQLite serialises writers and has no row locks)."""
    select = _select(model, tuple(related), where, order, connection.vendor)
    suffix = ""
    if lock and connection.features.has_select_for_update:
        suffix = " FOR UPDATE OF t0" + (" SKIP LOCKED" if skip_locked else "")
    with _cursor() as cursor:
        cursor.execute(f"{select.sql} LIMIT 1{suffix}", list(params))
        row = cursor.fetchone()
    return None if row is None else _build(select, row)


@cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, tuple]:
    del vendor
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    pk = model._meta.pk
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_q(pk.column)}"
    )
    return sql, fields


def insert(instance: Model) -> Model:
    """INSERT one new instance (an auto primary key) and set its primary key, as
    `save(force_insert=True)` would, minus signals: for models no signal is attached to."""
    sql, fields = _insert_sql(type(instance), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with _cursor() as cursor:
        cursor.execute(sql, values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def insert_and_execute(instance: Model, sql: str, params) -> int:
    """`insert(instance)` and then one fixed UPDATE or DELETE (`sql`, `params`), in one round
    trip on PostgreSQL (a data-modifying WITH); returns the rows the second statement changed.
    For appends that move a pointer along with the new row, such as an audit event and its
    chain head."""
    if connection.vendor != "postgresql":
        insert(instance)
        return execute(sql, params)
    insert_sql, fields = _insert_sql(type(instance), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    combined = (
        f"WITH inserted AS ({insert_sql}), changed AS ({sql} RETURNING 1) "  # noqa: S608
        "SELECT (SELECT * FROM inserted), (SELECT count(*) FROM changed)"
    )
    with _cursor() as cursor:
        cursor.execute(combined, [*values, *params])
        instance.pk, changed = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = connection.alias
    return changed


def db_value(model, field_name: str, value):
    """`value` as the database takes it for `model.field_name` in a raw parameter, as the ORM
    would send it (SQLite stores datetimes as naive UTC text and UUIDs as hex)."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


def execute(sql: str, params) -> int:
    """Run one fixed UPDATE or DELETE; returns the number of rows it changed."""
    with _cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def set_prefetched(instance: Model, name: str, objects: list) -> None:
    """Hand `instance` the rows of its relation `name` (a reverse foreign key or a many-to-many
    field, cached under its accessor name) read elsewhere, say by `fetch_all`, so
    `instance.<name>.all()` answers from them without a query — what `prefetch_related_objects`
    leaves behind."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset
