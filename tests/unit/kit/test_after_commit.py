"""``UnitOfWork.after_commit``: what is counted after a commit (metrics) counts only what committed."""

from pathlib import Path

import pytest

from kit.db import Database
from kit.tables import define_platform_tables, new_metadata

tables = define_platform_tables(new_metadata())


async def test_callbacks_run_after_a_commit_and_never_after_a_rollback_or_an_undone_savepoint(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}", service="uowtest", tables=tables)
    ran: list[str] = []
    try:
        async with db.transaction() as uow:
            uow.after_commit(lambda: ran.append("committed"))
            assert ran == []  # not before the commit
        with pytest.raises(RuntimeError):
            async with db.transaction() as uow:
                uow.after_commit(lambda: ran.append("rolled back"))
                raise RuntimeError("the unit of work fails")
        async with db.transaction() as uow:
            with pytest.raises(RuntimeError):
                async with uow.savepoint():
                    uow.after_commit(lambda: ran.append("undone savepoint"))
                    raise RuntimeError("the savepoint fails")
            uow.after_commit(lambda: ran.append("kept"))
    finally:
        await db.dispose()
    assert ran == ["committed", "kept"]
