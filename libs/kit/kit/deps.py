"""FastAPI dependency aliases shared by every service's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kit.clock import Clock
from kit.db import Database
from kit.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# ``async`` although they do not await: FastAPI runs a plain ``def`` dependency in a worker thread, a
# hop that costs more than the whole lookup


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_db(request: Request) -> Database:
    return runtime_of(request).db


async def get_clock(request: Request) -> Clock:
    return runtime_of(request).clock


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Db = Annotated[Database, Depends(get_db)]
ClockDep = Annotated[Clock, Depends(get_clock)]
