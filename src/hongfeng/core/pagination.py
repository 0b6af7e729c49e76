from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page-number pagination with bounded inputs: a page number so large that its offset
    overflows the database integer is a client error, not a crash."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=200)


class IdsFirstPagination(Pagination):
    """For lists of wide rows (joins, per-row subqueries) over a large reach: the page's ids
    first, ordered and cut on the narrow rows, then the full rows of just those ids.

    PostgreSQL cannot sort before it joins: a province admin's first page of member files
    joined and sorted all 200,000 rows (≈ 0.5 s, `python -m bench`); ids first, the sort handles
    (name, id) pairs only and the joins run for 50 rows. An index on the sort columns would
    also do it for the largest lists, but the planner then walked it for small ones too (a
    captain's 200 files: 4 → 120 ms)."""

    def paginate_queryset(self, queryset, pagination, request, **params):
        """The page as a list in the queryset's order, and the total count."""
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        ids = list(
            queryset.prefetch_related(None).values_list("pk", flat=True)[
                offset : offset + page_size
            ]
        )
        rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
        return {
            self.items_attribute: [rows[pk] for pk in ids if pk in rows],
            "count": self._items_count(queryset),
        }
