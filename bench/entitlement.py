"""Entitlement decisions/s through the warranty HTTP API over a catalogue of registered units in PostgreSQL.

Platform: ``GET /warranty/v1/units/{serial}/entitlement?at=&fault=`` through the whole app
(auth, unit, model, policy versions, contracts and repair history loaded, rules applied, the
decision rendered) with ``httpx.ASGITransport``, one request after another. Every 10th unit has
a service contract and every 5th a repair history, so those are read too. Baseline: a bare
asyncpg ``SELECT`` of one unit by serial, one after another, on the same database in the same
run. No target is set; the ratio shows what a decision costs over reading the unit alone.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from infra import AMQP_URL, create_database, drop_database, pg_url

from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.db import Database
from kit.domain import Money
from kit.settings import Settings
from warranty import store
from warranty.app import service
from warranty.domain import PartCost, ProductLine, ProductModel, StandardRepair, WarrantyPolicy
from warranty.tables import repairs, service_contracts, units

MODELS = 20


async def _catalogue(db: Database, n_units: int) -> list[str]:
    repair = StandardRepair("E01", 60, (PartCost("COMP-1", Money(120)),))
    now = datetime.now(UTC)
    async with db.transaction() as uow:
        await store.save_line(uow.conn, ProductLine("AC", "Air conditioners", {"E01": repair}))
        for m in range(MODELS):
            await store.save_model(
                uow.conn, ProductModel(f"AC-{m}", f"Model {m}", "AC", "A", frozenset({"COMP-1"}))
            )
        for version, since in ((1, date(2018, 1, 1)), (2, date(2023, 1, 1))):
            policy = WarrantyPolicy(policy_id="AC-STD", version=version, effective_from=since, line_code="AC")
            await store.add_policy(uow.conn, policy, at=now)
    serials = [f"SN{i:08d}" for i in range(n_units)]
    today = now.date()
    batch = 5000
    for start in range(0, n_units, batch):
        rows = []
        for i, serial in enumerate(serials[start : start + batch], start=start):
            sold = today - timedelta(days=i % 1200)
            rows.append(
                {
                    "serial": serial,
                    "model_code": f"AC-{i % MODELS}",
                    "dealer_id": f"dealer-{i % 50}",
                    "customer_id": f"cust-{i}",
                    "sold_on": sold,
                    "installed_on": sold + timedelta(days=3),
                    "accepted_on": None,
                    "installer_id": None,
                    "card_received_on": sold + timedelta(days=5),
                    "owners": [
                        {
                            "customer_id": f"cust-{i}",
                            "from_date": sold.isoformat(),
                            "recorded_at": now.isoformat(),
                            "recorded_by": "bench",
                            "reason": "first sale",
                        }
                    ],
                    "version": 1,
                    "registered_at": now,
                    "updated_at": now,
                }
            )
        contracts = [
            {
                "contract_id": f"K{i:08d}",
                "serial": serials[i],
                "tier": "standard",
                "starts_on": today - timedelta(days=i % 1200) + timedelta(days=700),
                "ends_on": today - timedelta(days=i % 1200) + timedelta(days=1100),
                "covers_parts": True,
                "covers_labour": True,
                "covers_travel": False,
            }
            for i in range(start, min(start + batch, n_units), 10)
        ]
        history = [
            {
                "work_order_id": f"WO{i:08d}-{k}",
                "serial": serials[i],
                "model_code": f"AC-{i % MODELS}",
                "fault_code": "E01",
                "repaired_on": today - timedelta(days=20 * k + 1),
                "dealer_id": f"dealer-{i % 50}",
                "ticket_id": None,
                "part_numbers": ["COMP-1"],
                "completed_at": now - timedelta(days=20 * k + 1),
            }
            for i in range(start, min(start + batch, n_units), 5)
            for k in range(1 + i % 2)
        ]
        async with db.transaction() as uow:
            await uow.conn.execute(units.insert(), rows)
            await uow.conn.execute(service_contracts.insert(), contracts)
            await uow.conn.execute(repairs.insert(), history)
    return serials


async def _bare(dsn: str, serials: list[str], n: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        picks = random.Random(1).choices(serials, k=n)
        started = time.perf_counter()
        for serial in picks:
            row = await conn.fetchrow("SELECT * FROM units WHERE serial = $1", serial)
            assert row is not None
        return n / (time.perf_counter() - started)
    finally:
        await conn.close()


async def _platform(settings: Settings, name: str, serials: list[str], n: int) -> float:
    definition = dataclasses.replace(service, name=name)
    app = create_app(definition, settings=settings, roles={"api"}, migrate_on_start=False)
    token = mint_token(settings, subject="bench-agent", roles=["agent"])
    picks = random.Random(2).choices(serials, k=n)
    at = datetime.now(UTC).date().isoformat()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://warranty",
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        for serial in picks[:20]:  # warm up
            (
                await client.get(f"/{name}/v1/units/{serial}/entitlement", params={"at": at, "fault": "E01"})
            ).raise_for_status()
        started = time.perf_counter()
        for serial in picks:
            response = await client.get(
                f"/{name}/v1/units/{serial}/entitlement", params={"at": at, "fault": "E01"}
            )
            assert response.status_code == 200, response.text
        return n / (time.perf_counter() - started)


async def run(quick: bool = False) -> dict[str, object]:
    n_units = 10_000 if quick else 100_000
    n = 300 if quick else 2000
    name = "warranty_bench_" + uuid.uuid4().hex[:6]
    db_name = await create_database()
    url = pg_url(db_name)
    try:
        await migrations.upgrade(service.migrations, url)
        settings = Settings(database_url=url, amqp_url=AMQP_URL, environment="test")
        db = Database(url, service=name, tables=service.tables, pool_size=2)
        try:
            serials = await _catalogue(db, n_units)
        finally:
            await db.dispose()
        bare = await _bare(url.replace("postgresql+asyncpg://", "postgresql://"), serials, n)
        print(
            f"bare asyncpg SELECT unit by serial:        {bare:8.0f} lookups/s  ({n_units} units)", flush=True
        )
        ours = await _platform(settings, name, serials, n)
        ratio = ours / bare
        print(
            f"entitlement decision via HTTP API (PG):    {ours:8.0f} decisions/s ({n} requests)", flush=True
        )
        print(f"ratio {ratio:.3f} (no target)", flush=True)
    finally:
        await drop_database(db_name)
    return {"units": n_units, "requests": n, "bare_per_s": bare, "platform_per_s": ours, "ratio": ratio}
