"""Field types shared by the API schemas, so that bad input is refused at the edge with a 422
instead of reaching the database (where it would raise)."""

from typing import Annotated

from pydantic import AfterValidator, Field

# Fits every database's integer column (SQLite raises OverflowError beyond 2**63) and stays
# exact in JavaScript clients.
MAX_ID = 2**53

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; nothing a person types contains it.
    if "\x00" in value:
        raise ValueError("不能包含空字符（\\u0000）")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
