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
from functools import cache, partial

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model, signals
from django.db.models.base import ModelState

__all__ = [
    "db_value",
    "execute",
    "fetch_all",
    "fetch_one",
    "fetch_pair",
    "fetch_rows",
    "fetch_values",
    "insert",
    "insert_and_execute",
    "insert_and_fetch_one",
    "is_postgresql",
    "next_id_sql",
    "row_select",
    "set_prefetched",
    "values_select",
    "write_if",
]


@dataclass(frozen=True)
class _Part:
    """One model in a select: where its columns sit in the row and how to turn them into
    Python values the way the ORM would."""

    model: type[Model]
    attnames: tuple[str, ...]
    start: int
    # (position, column expression, converters in the ORM's order) for the columns that have
    # converters (some look at the expression, so it is kept beside them)
    converters: tuple[tuple, ...]
    pk_index: int
    plain: bool  # no pre_init/post_init receivers: see _instance
    link: str | None  # the foreign key on the main model that holds this object


@dataclass(frozen=True)
class _Select:
    sql: str
    parts: tuple[_Part, ...]


def _db():
    """The default database's wrapper itself: `django.db.connection` is a proxy that looks the
    wrapper up on every attribute access, a cost these functions would pay a dozen times per
    statement."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def _vendor() -> str:
    """The default database's vendor, fixed for the life of the process (asked several times
    per request; looking the wrapper up goes through a thread-local each time)."""
    return _db().vendor


def is_postgresql() -> bool:
    """Whether the default database is PostgreSQL (where the one-round-trip forms apply)."""
    return _vendor() == "postgresql"


def _run(sql: str, params, read):
    """Execute one fixed statement and return `read(cursor)`.

    Where settings.py enables prepared statements (PostgreSQL, not behind PgBouncer), through a
    server-binding psycopg cursor kept on the connection and reused: psycopg prepares a
    statement after a few executions, so a check-in's statements skip the parser and planner.
    Django's checks run as its cursors run them (the connection's health check, thread
    sharing, a broken transaction) and errors are translated the same way. The kept cursor is
    not Django's `CursorWrapper`, so tools that patch that class (tracing, metrics) do not see
    these statements; when queries are being logged (tests counting queries, DEBUG) or an
    execute wrapper is installed, they go through Django's wrapper instead and are seen.
    Elsewhere (SQLite) through Django's plain cursor."""
    db = _db()
    if db.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return read(cursor)
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    if db.queries_logged or db.execute_wrappers:
        import psycopg

        with db.wrap_database_errors:
            raw = psycopg.Cursor(db.connection)
        with db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw) as cursor:
            cursor.execute(sql, params)
            return read(cursor)
    db.validate_no_broken_transaction()
    cursor = _kept_cursor(db)
    with db.wrap_database_errors:
        cursor.execute(sql, params)
        return read(cursor)


def _kept_cursor(db):
    """One psycopg cursor per open connection, made on first use (a new connection after a
    reconnect gets its own)."""
    kept = getattr(db, "_hotpath_cursor", None)
    if kept is None or kept.connection is not db.connection or kept.closed:
        import psycopg

        with db.wrap_database_errors:
            kept = db._hotpath_cursor = psycopg.Cursor(db.connection)
    return kept


def _one(cursor):
    return cursor.fetchone()


def _all(cursor):
    return cursor.fetchall()


def _rowcount(cursor):
    return cursor.rowcount


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _converters(fields, alias: str) -> tuple:
    """The backend's converters and then each field's, as the ORM's compiler applies them."""
    found = []
    for i, field in enumerate(fields):
        col = field.get_col(alias)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            found.append((i, col, tuple(converters)))
    return tuple(found)


def _chosen(model: type[Model], names: tuple[str, ...] | None) -> list:
    """The concrete fields read of `model`: all, or those named (the primary key always)."""
    if names is None:
        return list(model._meta.concrete_fields)
    fields = [model._meta.get_field(name) for name in names]
    return fields if model._meta.pk in fields else [model._meta.pk, *fields]


@cache
def _select(
    model: type[Model],
    related: tuple[str, ...],
    where: str,
    order: str,
    vendor: str,
    only: tuple[tuple[str, tuple[str, ...]], ...] = (),
):
    """Build (once per shape and database vendor) the SELECT for `model` joined to the targets
    of the foreign keys named in `related`. `where` and `order` refer to the main table as t0.
    `only`: (relation name, or "" for `model` itself; the fields to read of it) — the others
    are left deferred, as `QuerySet.only` leaves them: read from the database if touched."""
    del vendor  # part of the cache key only: converters differ between backends
    only = dict(only)
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
        fields = _chosen(table_model, only.get(link or ""))
        parts.append(
            _Part(
                model=table_model,
                attnames=tuple(f.attname for f in fields),
                start=len(columns),
                converters=_converters(fields, alias),
                pk_index=fields.index(table_model._meta.pk),
                plain=not (
                    signals.pre_init.has_listeners(table_model)
                    or signals.post_init.has_listeners(table_model)
                ),
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


def _instance(part: _Part, values: list, alias: str) -> Model:
    """What `Model.from_db` returns — the same attributes and state — built without
    `Model.__init__`'s generic argument loop and its two signals, for the models nobody listens
    to. That is checked once, when a statement is first built: receivers connect while the
    apps load, before any request, and one connected later would not be seen by statements
    already built. The loop was most of the cost of reading a row here (the check-in
    benchmark)."""
    if not part.plain:
        return part.model.from_db(alias, part.attnames, values)
    instance = part.model.__new__(part.model)
    instance.__dict__.update(zip(part.attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding, state.db = False, alias
    return instance


def _convert(values: list, converters, db) -> list:
    """Apply the converters (from `_converters`) to a row's values in place, as the ORM does."""
    for i, col, functions in converters:
        for convert in functions:
            values[i] = convert(values[i], col, db)
    return values


def _build(select: _Select, row, db) -> Model:
    objects = []
    for part in select.parts:
        values = list(row[part.start : part.start + len(part.attnames)])
        _convert(values, part.converters, db)
        objects.append(None if values[part.pk_index] is None else _instance(part, values, db.alias))
    main = objects[0]
    for part, obj in zip(select.parts[1:], objects[1:], strict=True):
        main._meta.get_field(part.link).set_cached_value(main, obj)
    return main


def _locking(lock: bool, skip_locked: bool, db) -> str:
    if not (lock and db.features.has_select_for_update):
        return ""
    return " FOR UPDATE OF t0" + (" SKIP LOCKED" if skip_locked else "")


def fetch_all(model, where: str, params, *, related=(), order: str = "") -> list:
    """Instances of `model` (with the foreign keys in `related` loaded) matching `where`, a
    fixed SQL condition on alias t0 with %s placeholders."""
    db = _db()
    select = _select(model, tuple(related), where, order, db.vendor)
    rows = _run(select.sql, list(params), _all)
    return [_build(select, row, db) for row in rows]


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
    db = _db()
    select = _select(model, tuple(related), where, order, db.vendor)
    sql = f"{select.sql} LIMIT 1{_locking(lock, skip_locked, db)}"
    row = _run(sql, list(params), _one)
    return None if row is None else _build(select, row, db)


@dataclass(frozen=True)
class ValuesSelect:
    """The statement `fetch_values` runs, for use inside a larger read (a LATERAL subquery):
    its text, how many columns it yields and how to turn them into `fetch_values`' values."""

    sql: str
    width: int
    converters: tuple

    def convert(self, values) -> tuple:
        """A row's values (this select's columns only) as `fetch_values` returns them."""
        if not self.converters:
            return tuple(values)
        return tuple(_convert(list(values), self.converters, _db()))


@cache
def _values_select(
    model, fields: tuple[str, ...], extra: tuple[str, ...], where: str, order: str, vendor: str
) -> ValuesSelect:
    del vendor
    columns = [model._meta.get_field(name) for name in fields]
    sql = (
        f"SELECT {', '.join([f't0.{_q(f.column)}' for f in columns] + list(extra))} "  # noqa: S608
        f"FROM {_q(model._meta.db_table)} t0 WHERE {where}"
        f"{f' ORDER BY {order}' if order else ''}"
    )
    return ValuesSelect(sql, len(columns) + len(extra), _converters(columns, "t0"))


def values_select(model, fields, where: str, *, extra=(), order: str = "") -> ValuesSelect:
    """`fetch_values`' statement (without a lock) as a `ValuesSelect`."""
    return _values_select(model, tuple(fields), tuple(extra), where, order, _vendor())


def fetch_values(
    model, fields, where: str, params, *, extra=(), order: str = "", lock: bool = False
) -> list[tuple]:
    """Rows of plain values, as `values_list(*fields)` gives them, followed by the raw values
    of the `extra` SQL expressions (fixed text from our code, on alias t0) — for reads that
    need a few columns, not model instances. `lock` takes the rows' locks until the
    transaction ends."""
    db = _db()
    select = _values_select(model, tuple(fields), tuple(extra), where, order, db.vendor)
    rows = _run(select.sql + _locking(lock, False, db), list(params), _all)
    if not select.converters:
        return rows
    return [select.convert(row) for row in rows]


def fetch_rows(sql: str, params) -> list[tuple]:
    """The raw rows of one fixed read that the caller assembled from `row_select` and
    `values_select` statements (which then build the values): one round trip for what would
    otherwise be several."""
    return _run(sql, list(params), _all)


@dataclass(frozen=True)
class RowSelect:
    """The statement `fetch_one` runs, for use inside a larger read (a LATERAL subquery): its
    text, how many columns it yields and how to build the instance from them."""

    sql: str
    width: int
    _select: _Select

    def build(self, values) -> Model | None:
        """The instance from this select's columns (None when they are NULL: no row)."""
        if values[self._select.parts[0].pk_index] is None:
            return None
        return _build(self._select, values, _db())


def row_select(
    model,
    where: str,
    *,
    related=(),
    only: dict[str, tuple[str, ...]] | None = None,
    order: str = "",
    lock: bool = False,
    skip_locked: bool = False,
) -> RowSelect:
    """`fetch_one`'s statement for `model` as a `RowSelect` (built once per shape: hot paths
    ask for it on every request). `only`: {relation name, or "" for `model`: field names} to
    read just those columns of it (see `_select`)."""
    narrowed = tuple(sorted((only or {}).items()))
    return _row_select(model, tuple(related), where, order, lock, skip_locked, _vendor(), narrowed)


@cache
def _row_select(model, related, where, order, lock, skip_locked, vendor, only) -> RowSelect:
    db = _db()
    select = _select(model, related, where, order, vendor, only)
    width = sum(len(part.attnames) for part in select.parts)
    sql = f"{select.sql} LIMIT 1{_locking(lock, skip_locked, db)}"
    return RowSelect(sql=sql, width=width, _select=select)


def fetch_pair(first: RowSelect, first_params, second: RowSelect, second_params) -> tuple:
    """Two unrelated single-row reads (`row_select`s) in one round trip on PostgreSQL:
    (first instance or None, second instance or None). Elsewhere one after the other."""
    if not is_postgresql():
        return tuple(
            None if row is None else select.build(row)
            for select, params in ((first, first_params), (second, second_params))
            for row in [_run(select.sql, list(params), _one)]
        )
    row = _run(
        f"SELECT a.*, b.* FROM (SELECT 1) x LEFT JOIN LATERAL ({first.sql}) a ON TRUE "  # noqa: S608
        f"LEFT JOIN LATERAL ({second.sql}) b ON TRUE",
        [*first_params, *second_params],
        _one,
    )
    return first.build(row[: first.width]), second.build(row[first.width :])


@cache
def _insert_sql(model: type[Model], vendor: str, with_pk: bool = False) -> tuple[str, tuple]:
    del vendor
    fields = tuple(f for f in model._meta.concrete_fields if with_pk or not f.primary_key)
    pk = model._meta.pk
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_q(pk.column)}"
    )
    return sql, fields


# Field classes (exactly these: a subclass may convert differently) whose `pre_save` reads the
# attribute and whose `get_db_prep_save` leaves a value of the given Python type as it is; for
# the integer fields the backend's adapter is applied as the ORM applies it.
_PASSED = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.FloatField: float,
}
_INTEGERS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)
_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _plain_key(field) -> bool:
    """An auto primary key, or a foreign key to one: an int goes to the database as it is."""
    if type(field) is models.ForeignKey:
        field = field.target_field
    return type(field) in _KEYS


@cache
def _preparers(fields: tuple, vendor: str) -> tuple:
    """For each field: (field, attname, the Python type taken as it is or None, the adapter
    applied to it or None). Fields of other kinds, and values of other types, take the ORM's
    full `get_db_prep_save(pre_save(...))` — which for these would return the same value at
    several times the cost (a check-in inserts two rows of ~18 fields: the benchmark)."""
    del vendor  # part of the cache key: the integer adapters differ between backends
    ops = _db().ops
    plan = []
    for field in fields:
        kind = adapter = None
        if _plain_key(field):
            kind = int
        elif type(field) in _INTEGERS:
            kind, internal = int, field.get_internal_type()
            adapter = partial(ops.adapt_integerfield_value, internal_type=internal)
        else:
            kind = _PASSED.get(type(field))
        plan.append((field, field.attname, kind, adapter))
    return tuple(plan)


def _insert_values(instance: Model, fields, db) -> list:
    """The parameters of `instance`'s INSERT, as `save()` would send them."""
    values = []
    for field, attname, kind, adapter in _preparers(fields, db.vendor):
        if kind is not None:
            value = getattr(instance, attname)
            if value is None or type(value) is kind:
                values.append(adapter(value) if adapter and value is not None else value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(instance, True), db))
    return values


def _inserted(instance: Model, pk, db) -> Model:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = db.alias
    return instance


def insert(instance: Model) -> Model:
    """INSERT one new instance (an auto primary key, unless one is set already) and set its
    primary key, as `save(force_insert=True)` would, minus signals: for models no signal is
    attached to."""
    db = _db()
    sql, fields = _insert_sql(type(instance), db.vendor, instance.pk is not None)
    row = _run(sql, _insert_values(instance, fields, db), _one)
    return _inserted(instance, row[0], db)


def insert_and_execute(instance: Model, sql: str, params) -> int:
    """`insert(instance)` and then one fixed UPDATE or DELETE (`sql`, `params`), in one round
    trip on PostgreSQL (a data-modifying WITH); returns the rows the second statement changed.
    For appends that move a pointer along with the new row, such as an audit event and its
    chain head."""
    db = _db()
    if db.vendor != "postgresql":
        insert(instance)
        return execute(sql, params)
    insert_sql, fields = _insert_sql(type(instance), db.vendor, instance.pk is not None)
    combined = (
        f"WITH inserted AS ({insert_sql}), changed AS ({sql} RETURNING 1) "  # noqa: S608
        "SELECT (SELECT * FROM inserted), (SELECT count(*) FROM changed)"
    )
    pk, changed = _run(combined, [*_insert_values(instance, fields, db), *params], _one)
    _inserted(instance, pk, db)
    return changed


def insert_and_fetch_one(
    instance: Model,
    model,
    where: str,
    params,
    *,
    order: str = "",
    lock: bool = False,
    skip_locked: bool = False,
):
    """`insert(instance)` and then `fetch_one(model, where, params, ...)`, in one round trip on
    PostgreSQL (a data-modifying WITH; the read does not see the new row). For a new row
    whose write must claim another row, such as a record and the audit chain head its event
    goes to."""
    db = _db()
    if db.vendor != "postgresql":
        insert(instance)
        return fetch_one(model, where, params, order=order, lock=lock, skip_locked=skip_locked)
    insert_sql, fields = _insert_sql(type(instance), db.vendor, instance.pk is not None)
    select = _select(model, (), where, order, db.vendor)
    # the insert's RETURNING column first, then the fetched row's (NULLs when nothing matched)
    combined = (
        f"WITH inserted AS ({insert_sql}) SELECT inserted.*, found.* FROM inserted "  # noqa: S608
        f"LEFT JOIN LATERAL ({select.sql} LIMIT 1{_locking(lock, skip_locked, db)}) found "
        "ON TRUE"
    )
    row = _run(combined, [*_insert_values(instance, fields, db), *params], _one)
    _inserted(instance, row[0], db)
    found = row[1:]
    return None if found[select.parts[0].pk_index] is None else _build(select, found, db)


@cache
def _sequence(model: type[Model]) -> str:
    with _db().cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
        )
        return cursor.fetchone()[0]


def next_id_sql(model) -> str:
    """PostgreSQL: an expression that takes the next primary key of `model` from its sequence
    (looked up once per process), for a read that must know a new row's key before the row is
    written — say, because the audit event written in the same statement names it."""
    return f"nextval('{_sequence(model)}'::regclass)"


@cache
def _insert_if_sql(model: type[Model], vendor: str, with_pk: bool) -> tuple[str, tuple]:
    """`INSERT … SELECT <values> WHERE {}`-ready text: each value cast to its column's type
    (in a SELECT list PostgreSQL cannot infer a parameter's type from the column it goes to) —
    the type without its modifier, since an explicit cast to varchar(n) would cut a long value
    short where the insert itself refuses it."""
    del vendor
    db = _db()
    fields = tuple(f for f in model._meta.concrete_fields if with_pk or not f.primary_key)
    values = ", ".join(f"CAST(%s AS {f.cast_db_type(db).split('(')[0]})" for f in fields)
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
        f"SELECT {values} WHERE {{}} RETURNING {_q(model._meta.pk.column)}"
    )
    return sql, fields


def write_if(guards: list[tuple[str, list]], inserts: list[Model]) -> int:
    """PostgreSQL, one statement (atomic without a transaction around it): each guard — an
    UPDATE meant to change one row, such as a version moved on from the value read or a
    pointer moved from where it was — runs only if the one before it changed its row, and the
    inserts (unsaved instances; a primary key set or given) only if the last one did. Returns
    how many guards held, in order: all of them means the inserts were made. A guard that held
    stays written when a later one did not: order them so that this is harmless (a version
    moved on), the one that must not move alone last. Guards are fixed text from our code
    ("UPDATE … WHERE …"); values are parameters."""
    db = _db()
    parts, params, held = [], [], "TRUE"
    for i, (sql, values) in enumerate(guards):
        parts.append(f"g{i} AS ({sql} AND {held} RETURNING 1)")
        params += values
        held = f"EXISTS (SELECT 1 FROM g{i})"  # noqa: S608 — a name of this statement
    for i, instance in enumerate(inserts):
        sql, fields = _insert_if_sql(type(instance), db.vendor, instance.pk is not None)
        parts.append(f"w{i} AS ({sql.format(held)})")
        params += _insert_values(instance, fields, db)
    held = " + ".join(f"(SELECT count(*) FROM g{i})" for i in range(len(guards)))  # noqa: S608
    keys = "".join(f", (SELECT * FROM w{i})" for i in range(len(inserts)))  # noqa: S608
    row = _run(f"WITH {', '.join(parts)} SELECT {held}{keys}", params, _one)
    if row[0] == len(guards):
        for instance, pk in zip(inserts, row[1:], strict=True):
            _inserted(instance, pk, db)
    return row[0]


def db_value(model, field_name: str, value):
    """`value` as the database takes it for `model.field_name` in a raw parameter, as the ORM
    would send it (SQLite stores datetimes as naive UTC text and UUIDs as hex)."""
    return model._meta.get_field(field_name).get_db_prep_value(value, _db())


def execute(sql: str, params) -> int:
    """Run one fixed UPDATE or DELETE; returns the number of rows it changed."""
    return _run(sql, list(params), _rowcount)


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
