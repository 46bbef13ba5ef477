"""Cursor pagination: ``limit`` and an opaque ``cursor`` in, ``next_cursor`` out."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, or_

from kit.domain import DomainError

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
Cursor = Annotated[str | None, Query(max_length=500, description="The next_cursor of the previous page.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("The cursor is not valid; start again without it.", code="invalid-cursor") from exc
    if not isinstance(values, list):
        raise DomainError("The cursor is not valid; start again without it.", code="invalid-cursor")
    return values


def page_of(rows: list[T], limit: int, cursor_of: Any) -> Page[T]:
    """Build a page from ``limit + 1`` fetched rows; ``cursor_of(row)`` gives the keyset values."""
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor(*cursor_of(items[-1])) if more and items else None)


def after_row(
    order: ColumnElement[Any], tiebreak: ColumnElement[Any], last: tuple[Any, Any], *, descending: bool
) -> ColumnElement[bool]:
    """The keyset condition for the page after ``last`` (the previous page's last sort value and id) of a
    list ordered by ``order`` then ``tiebreak``, both descending or both ascending."""
    value, key = last
    if descending:
        return or_(order < value, and_(order == value, tiebreak < key))
    return or_(order > value, and_(order == value, tiebreak > key))
