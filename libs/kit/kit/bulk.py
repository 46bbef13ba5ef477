"""Write-only rows of a transaction sent to PostgreSQL in one round trip.

A request that opens a ticket writes to a dozen tables (the ticket, its clocks, its timer, the
customer's history, the audit log, the outbox …) and reads none of it back. Sent one statement at a time,
each row costs a round trip plus SQLAlchemy's statement building; sent as one statement of
data-modifying CTEs (``WITH a AS (INSERT …), b AS (INSERT …) SELECT …``) they cost one round trip and one
prepared statement per shape, which PostgreSQL and asyncpg both cache.

Values still go through each column's SQLAlchemy type (JSON encoded, enums as strings …) and Python-side
column defaults still apply, so a row written here reads back exactly as one written by
``table.insert()``. Other databases (the embedded SQLite) get one ``executemany`` per table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]

#: PostgreSQL accepts at most 32767 bind parameters in one statement; stay well below.
MAX_PARAMETERS = 30_000


@dataclass(frozen=True, slots=True)
class _ColumnPlan:
    name: str
    quoted: str
    process: Callable[[Any], Any] | None
    default: Callable[[], Any] | None
    has_server_default: bool


_plans: dict[tuple[int, str], dict[str, _ColumnPlan]] = {}


def _plan(table: Table, dialect: Dialect) -> dict[str, _ColumnPlan]:
    key = (id(table), dialect.name)
    plan = _plans.get(key)
    if plan is None:
        preparer = dialect.identifier_preparer
        plan = {c.name: _column_plan(c, dialect, preparer.quote(c.name)) for c in table.columns}
        _plans[key] = plan
    return plan


def _column_plan(column: Column[Any], dialect: Dialect, quoted: str) -> _ColumnPlan:
    default: Callable[[], Any] | None = None
    spec = column.default
    if spec is not None and getattr(spec, "is_scalar", False):
        value = spec.arg  # type: ignore[attr-defined]
        default = lambda: value  # noqa: E731
    elif spec is not None and getattr(spec, "is_callable", False):
        fn = spec.arg  # type: ignore[attr-defined]
        default = lambda: fn(None)  # noqa: E731 - SQLAlchemy wraps zero-argument callables to take a context
    return _ColumnPlan(
        name=column.name,
        quoted=quoted,
        process=column.type.dialect_impl(dialect).bind_processor(dialect),
        default=default,
        has_server_default=column.server_default is not None or column.autoincrement is True,
    )


def build(
    dialect: Dialect, parts: Sequence[tuple[Table, Sequence[Row]]], *, final: str = "SELECT 1"
) -> tuple[str, list[Any]]:
    """One PostgreSQL statement inserting every row of ``parts``, then running ``final`` (which may use
    the next free ``$n`` as ``{next}``); its text and positional arguments."""
    ctes: list[str] = []
    args: list[Any] = []
    append = args.append
    for index, (table, rows) in enumerate(parts):
        if not rows:
            continue
        plan = _plan(table, dialect)
        present = rows[0].keys() if len(rows) == 1 else set().union(*rows)
        columns = [c for c in plan.values() if c.name in present or c.default is not None]
        tuples = []
        for row in rows:
            cells = []
            for col in columns:
                value = row.get(col.name, _MISSING)
                if value is _MISSING:
                    if col.default is None:
                        cells.append("DEFAULT")
                        continue
                    value = col.default()
                append(col.process(value) if col.process is not None and value is not None else value)
                cells.append(f"${len(args)}")
            tuples.append("(" + ", ".join(cells) + ")")
        names = ", ".join(c.quoted for c in columns)
        target = _target(table, dialect)
        # identifiers come from the metadata, quoted by the dialect; every value is a bind parameter
        values = ", ".join(tuples)
        ctes.append(f"w{index} AS (INSERT INTO {target} ({names}) VALUES {values})")  # noqa: S608
    body = final.replace("{next}", f"${len(args) + 1}")
    return ("WITH " + ", ".join(ctes) + " " + body if ctes else body), args


_MISSING = object()
_targets: dict[tuple[int, str], str] = {}


def _target(table: Table, dialect: Dialect) -> str:
    key = (id(table), dialect.name)
    target = _targets.get(key)
    if target is None:
        target = _targets[key] = dialect.identifier_preparer.format_table(table)
    return target


def write(
    conn: Connection,
    parts: Sequence[tuple[Table, Sequence[Row]]],
    *,
    notify: str | None = None,
) -> None:
    """Insert every row of ``parts`` inside the connection's open transaction; on PostgreSQL in one
    statement (several if the rows need more parameters than a statement may carry), queuing
    ``pg_notify(notify, '')`` with them when asked. Synchronous: called through ``run_sync`` or from
    inside SQLAlchemy's own execution (the unit of work's flush before a statement)."""
    parts = [(table, rows) for table, rows in parts if rows]
    if conn.dialect.name != "postgresql":
        for table, rows in parts:
            conn.execute(table.insert(), list(rows))
        return
    if not parts and notify:
        conn.exec_driver_sql("SELECT pg_notify($1, '')", (notify,))
        return
    for chunk in _chunks(parts):
        final = "SELECT pg_notify({next}, '')" if notify else "SELECT 1"
        sql, args = build(conn.dialect, chunk, final=final)
        if notify:
            args.append(notify)
        conn.exec_driver_sql(sql, tuple(args))
        notify = None  # once per transaction is enough


async def insert_all(
    conn: AsyncConnection,
    parts: Sequence[tuple[Table, Sequence[Row]]],
    *,
    notify: str | None = None,
) -> None:
    """``write`` from async code."""
    if any(rows for _, rows in parts) or notify:
        await conn.run_sync(lambda sync: write(sync, parts, notify=notify))


def fits_one_statement(parts: Sequence[tuple[Table, Sequence[Row]]]) -> bool:
    """Whether ``write`` sends ``parts`` as one statement on PostgreSQL (it splits only above
    ``MAX_PARAMETERS`` values)."""
    return sum(len(rows) * len(table.columns) for table, rows in parts) <= MAX_PARAMETERS


def _chunks(parts: list[tuple[Table, Sequence[Row]]]) -> list[list[tuple[Table, Sequence[Row]]]]:
    """Split the parts so that no statement carries more than ``MAX_PARAMETERS`` values."""
    chunks: list[list[tuple[Table, Sequence[Row]]]] = [[]]
    used = 0
    for table, rows in parts:
        width = len(table.columns)
        per = max(1, MAX_PARAMETERS // width)
        for start in range(0, len(rows), per):
            piece = rows[start : start + per]
            cost = len(piece) * width
            if used and used + cost > MAX_PARAMETERS:
                chunks.append([])
                used = 0
            chunks[-1].append((table, piece))
            used += cost
    return [c for c in chunks if c]
