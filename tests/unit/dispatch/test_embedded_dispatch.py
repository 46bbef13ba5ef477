"""Dispatch in the embedded default (SQLite, in-process transport): its migrations up and down, the JSON
snapshot readable in SQL, and the upgrade refusing to drop binary snapshots it cannot convert."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from started_app import started

from dispatch.app import service
from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import ManualClock
from kit.settings import Settings
from messaging.inprocess import InProcessBroker

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
FIRST_REVISION = "9c7dace16326"
PARIS = {
    "line1": "1 Rue de Rivoli",
    "city": "Paris",
    "country": "FR",
    "region_code": "paris",
    "location": {"latitude": 48.8566, "longitude": 2.3522},
}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def migrate(path: Path, revision: str) -> None:
    await asyncio.to_thread(
        command.upgrade, migrations.alembic_config(service.migrations, sqlite_url(path)), revision
    )


async def downgrade(path: Path, revision: str) -> None:
    await asyncio.to_thread(
        command.downgrade, migrations.alembic_config(service.migrations, sqlite_url(path)), revision
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, relay_poll_interval=0.05, environment="test")
    app = create_app(service, settings=settings, clock=ManualClock(T0), broker=InProcessBroker())
    token = mint_token(settings, subject="dispatcher-1", roles=["dispatcher"])
    async with started(app, token=token) as c:
        yield c


async def test_the_embedded_service_stores_work_orders_and_plans_as_readable_json(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    p = "/dispatch/v1"
    for path, body in (
        ("centres", {"id": "c", "name": "Paris", "kind": "regional_centre", "lat": 48.86, "lon": 2.35}),
        ("regions", {"id": "paris", "name": "Paris", "grade": "B", "centre_id": "c"}),
        (
            "technicians",
            {
                "id": "tech-1",
                "name": "Camille",
                "centre_id": "c",
                "region_ids": ["paris"],
                "skills": ["repair:water_heater"],
                "home_lat": 48.85,
                "home_lon": 2.34,
            },
        ),
    ):
        assert (await client.post(f"{p}/{path}", json=body)).status_code == 201
    r = await client.post(
        f"{p}/work_orders",
        json={
            "type": "repair",
            "region_id": "paris",
            "customer_id": "c-1",
            "product_line": "water_heater",
            "address": PARIS,
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    r = await client.post(f"{p}/work_orders/{order['id']}/auto_assign")
    assert r.status_code == 200, r.text
    r = await client.post(f"{p}/work_orders/{order['id']}/confirm_appointment", json={"via": "portal"})
    assert r.json()["appointment"]["confirmed_at"] is not None
    r = await client.post(
        f"{p}/maintenance_plans",
        json={
            "serial_number": "SN-1",
            "customer_id": "c-1",
            "product_line": "water_heater",
            "region_id": "paris",
            "site": PARIS,
            "starts_on": "2026-01-10",
            "ends_on": "2027-01-10",
            "lead_days": 60,
        },
    )
    assert r.status_code == 201, r.text
    plan = r.json()

    db = sqlite3.connect(tmp_path / "dispatch.db")
    try:
        [(state, technician, confirmed)] = db.execute(
            "SELECT json_extract(snapshot, '$.state'), json_extract(snapshot, '$.technician_id'),"
            " json_extract(snapshot, '$.appointment.confirmed_at') IS NOT NULL FROM work_orders"
        ).fetchall()
        assert (state, technician, confirmed) == ("assigned", "tech-1", 1)
        [(kind, key)] = db.execute(
            "SELECT kind, key FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND kind LIKE 'maint%'"
        ).fetchall()
        assert (kind, key) == ("maintenance_plan.request_visits", plan["id"])
    finally:
        db.close()


async def test_the_migration_goes_down_and_up_again_on_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.db"
    await migrate(path, "head")
    await downgrade(path, FIRST_REVISION)
    db = sqlite3.connect(path)
    try:
        columns = {row[1]: row[2] for row in db.execute("PRAGMA table_info(work_orders)")}
        assert columns["snapshot"] == "BLOB"
        assert "finished_at" not in columns
    finally:
        db.close()
    await migrate(path, "head")


async def test_the_upgrade_refuses_to_drop_binary_snapshots_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.db"
    await migrate(path, FIRST_REVISION)
    db = sqlite3.connect(path)
    try:
        now = (T0 + timedelta(minutes=1)).isoformat()
        db.execute(
            "INSERT INTO work_orders (id, number, type, priority, state, region_id, facts, snapshot, version,"
            " opened_at, updated_at) VALUES ('wo', 'WO-1', 'repair', 'normal', 'new', 'r', '{}', x'8004', 1, ?, ?)",
            (now, now),
        )
        db.commit()
    finally:
        db.close()
    with pytest.raises(RuntimeError, match="binary snapshots"):
        await migrate(path, "head")
