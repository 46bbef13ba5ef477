"""FastAPI dependency aliases shared by every service's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kit.clock import Clock
from kit.db import Database
from kit.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Database:
    return get_runtime(request).db


def get_clock(request: Request) -> Clock:
    return get_runtime(request).clock


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Db = Annotated[Database, Depends(get_db)]
ClockDep = Annotated[Clock, Depends(get_clock)]
