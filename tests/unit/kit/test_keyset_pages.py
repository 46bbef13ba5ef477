"""Keyset pages: walking a list page by page gives every row once, in order, ties on the sort value broken
by the id — also when rows share the sort value across a page boundary."""

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from kit.pagination import after_row

metadata = MetaData()
items = Table("items", metadata, Column("id", String, primary_key=True), Column("rank", Integer))
ROWS = [(f"i{n:02d}", n // 3) for n in range(20)]  # three rows per rank: ties everywhere


@pytest.mark.parametrize("descending", [True, False])
def test_walking_the_pages_yields_every_row_once_in_order(descending: bool) -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(items), [{"id": i, "rank": r} for i, r in ROWS])
        order = (items.c.rank.desc(), items.c.id.desc()) if descending else (items.c.rank, items.c.id)
        seen: list[tuple[str, int]] = []
        last = None
        while True:
            query = select(items.c.id, items.c.rank).order_by(*order).limit(4)
            if last is not None:
                query = query.where(after_row(items.c.rank, items.c.id, last, descending=descending))
            page = [(row.id, row.rank) for row in conn.execute(query)]
            if not page:
                break
            seen += page
            last = (page[-1][1], page[-1][0])
    expected = sorted(ROWS, key=lambda r: (r[1], r[0]), reverse=descending)
    assert seen == expected
