import hashlib

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page-number pagination with bounded inputs: a page number so large that its offset
    overflows the database integer is a client error, not a crash."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=200)


# A count of at least this many rows is kept for LARGE_COUNT_SECONDS (per app server process);
# the home page's unit cards follow the same rule (core.dashboard).
LARGE_COUNT = 10_000
LARGE_COUNT_SECONDS = 60


def count_of(queryset) -> int:
    """`queryset.count()`, kept for a minute when it is large: counting a province's 200,000
    member files cost ≈ 25 ms of wall and 60 ms of CPU (three parallel workers) per page at
    province scale (`python -m bench`), while nobody reads the fifth digit of such a total to
    the second. Small counts — a captain's roster — are always exact. The key is the count's
    SQL and parameters, so every reach and filter has its own."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (say, pk__in=[])
        return 0
    digest = hashlib.sha256(repr((queryset.db, sql, params)).encode()).hexdigest()
    key = f"count:{digest}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        if count >= LARGE_COUNT:
            cache.set(key, count, LARGE_COUNT_SECONDS)
    return count


class IdsFirstPagination(Pagination):
    """For lists of wide rows (joins, per-row subqueries) over a large reach: the page's ids
    first, ordered and cut on the narrow rows, then the full rows of just those ids.

    PostgreSQL cannot sort before it joins: a province admin's first page of member files
    joined and sorted all 200,000 rows (≈ 0.5 s, `python -m bench`); ids first, the sort handles
    (name, id) pairs only (or walks an index in that order) and the joins run for 50 rows.

    A search (`q`) is selective through an index of its own (pinyin initials), uncorrelated
    with the order: PostgreSQL then sometimes walked the name index hoping to meet 50 hits
    early and read 80,000 entries instead (20–40 ms for "ll", 2 ms for the hits sorted). For
    a search the hits are therefore gathered first and sorted after — with their count in the
    same query."""

    # Request parameters that make the filter selective enough to run before the sort.
    filter_first = ("q",)

    def paginate_queryset(self, queryset, pagination, request, **params):
        """The page as a list in the queryset's order, and the total count."""
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        narrow = queryset.prefetch_related(None)
        count = None
        search = any(str(params.get(name) or "").strip() for name in self.filter_first)
        ordered_by_fields = bool(queryset.query.order_by) and all(
            isinstance(field, str) and "__" not in field for field in queryset.query.order_by
        )
        if search and ordered_by_fields and connections[queryset.db].vendor == "postgresql":
            ids, count = _hits_first(narrow, offset, page_size)
        else:
            ids = list(narrow.values_list("pk", flat=True)[offset : offset + page_size])
        rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
        if count is None:
            count = count_of(narrow.order_by())
        return {self.items_attribute: [rows[pk] for pk in ids if pk in rows], "count": count}


def _hits_first(queryset, offset: int, limit: int) -> tuple[list, int | None]:
    """PostgreSQL: the page's ids and the total, the filter evaluated before the sort.

    `OFFSET 0` keeps the planner from flattening the inner query into the ordered outer one
    (a documented PostgreSQL optimisation fence), so the hits come from the filter's own
    indexes; the window count then costs nothing more, as every hit is sorted anyway. An empty
    page (past the end) has no row to carry the count: None, counted separately."""
    order = [(field.lstrip("-"), field.startswith("-")) for field in queryset.query.order_by]
    columns = ["pk", *(name for name, _ in order if name != "pk")]
    try:
        inner, params = queryset.order_by().values(*columns).query.sql_with_params()
    except EmptyResultSet:  # a search that can match nothing
        return [], 0
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    sort = ", ".join(f"{quote(name)}{' DESC' if desc else ''}" for name, desc in order)
    # The inner query is Django's own (values as parameters), the names are quoted field names.
    sql = (
        f"SELECT {quote('pk')}, count(*) OVER () FROM ({inner} OFFSET 0) AS hits "  # noqa: S608
        f"ORDER BY {sort or quote('pk')} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
    return [pk for pk, _ in rows], (rows[0][1] if rows else None)
