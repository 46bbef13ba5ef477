"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in, 412 on a stale write."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from kit.domain import PreconditionFailed

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def etag(version: int) -> str:
    return f'W/"{version}"'


def check_if_match(if_match: str | None, current_version: int) -> None:
    """Refuse a write whose ``If-Match`` names another version than the current one."""
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if etag(current_version) not in wanted and f'"{current_version}"' not in wanted:
        raise PreconditionFailed(
            f"The resource has changed (now version {current_version}); fetch it again and retry.",
            current_etag=etag(current_version),
        )
