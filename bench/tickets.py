"""Ticket creation over HTTP on PostgreSQL, beside a bare FastAPI endpoint doing one asyncpg INSERT.

Platform: ``POST /intake/v1/tickets`` on the intake service run as deployed (``aftersales serve intake``,
uvicorn, one process, API role only — the relay runs elsewhere), each request authenticated by a JWT,
validated, matched, numbered, its SLA clocks and timers set, and committed with its outbox event in one
PostgreSQL transaction.
Baseline: a FastAPI app with one pydantic-validated ``POST`` that does one asyncpg ``INSERT`` into a
ticket-shaped table, also in its own uvicorn process on the same machine and PostgreSQL.

Both are driven by the same load generator in a third process (``bench.httpload``): first closed-loop
for the maximum rate, then open-loop at half of the intake maximum for the p99 latency (measured from when
each request was due). Target: intake max / bare max >= 0.5 and p99 < 50 ms at half the intake maximum.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from infra import AMQP_URL, PG_ADMIN_DSN, create_database, drop_database, free_port, pg_url

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
CONNECTIONS = 32

# a new customer each time (unique name and email), so every request registers a customer too
TICKET = {
    "channel": "web",
    "type": "repair",
    "priority": "normal",
    "contact": {"name": "Customer {n}", "email": "bench-{n}@example.com"},
    "product": {"model_code": "AC-200", "serial_number": "SN-{n}"},
    "fault_description": "Unit does not cool; error E01 on the display.",
    "site_address": {
        "line1": "Hauptstr. 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "region_code": "berlin",
        "tier": "B",
    },
    "needs_on_site": True,
}

BARE_TABLE = """
CREATE TABLE IF NOT EXISTS tickets (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE,
    channel text NOT NULL,
    type text NOT NULL,
    priority text NOT NULL,
    payload jsonb NOT NULL,
    opened_at timestamptz NOT NULL
)
"""


class Contact(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None


class Product(BaseModel):
    model_code: str
    serial_number: str


class Site(BaseModel):
    line1: str
    postal_code: str
    city: str
    country: str
    region_code: str
    tier: str


class NewTicket(BaseModel):
    channel: str
    type: str
    priority: str
    contact: Contact
    product: Product
    fault_description: str
    site_address: Site
    needs_on_site: bool


class Created(BaseModel):
    id: uuid.UUID
    number: str


def bare_app() -> FastAPI:
    """The baseline: validation, one INSERT, a 201 with the id — nothing else."""
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=10, max_size=20)
        async with state["pool"].acquire() as conn:
            await conn.execute(BARE_TABLE)
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/tickets", status_code=201)
    async def create(ticket: NewTicket) -> Created:
        ticket_id = uuid.uuid4()
        number = "T-" + ticket_id.hex[:10].upper()
        await state["pool"].execute(
            "INSERT INTO tickets (id, number, channel, type, priority, payload, opened_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ticket_id,
            number,
            ticket.channel,
            ticket.type,
            ticket.priority,
            ticket.model_dump_json(),
            datetime.now(UTC),
        )
        return Created(id=ticket_id, number=number)

    return app


def _serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", loop="uvloop", http="httptools")


async def _wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                await client.get(url, timeout=1)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def _load(mode: str, url: str, token: str, template: Path, seconds: float, rate: float = 0) -> dict:
    args = [
        sys.executable,
        "-m",
        "bench.httpload",
        mode,
        url,
        token,
        str(template),
        str(seconds),
        str(CONNECTIONS),
    ]
    if mode == "open":
        args.append(str(rate))
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode})")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def _print(label: str, result: dict) -> None:
    print(
        f"{label:<44} {result['rate']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms"
        f"  errors {result['errors']}",
        flush=True,
    )


async def run(quick: bool = False) -> dict[str, object]:
    seconds = 4.0 if quick else 15.0
    template = Path(tempfile.mkstemp(suffix=".json")[1])
    template.write_text(json.dumps(TICKET))
    bare_db, intake_db = await create_database(), await create_database()
    servers: list[subprocess.Popen[bytes]] = []
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the servers' own logs, read back and closed below
    try:
        # baseline
        port = free_port()
        env = {**os.environ, "BARE_DSN": f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{bare_db}"}
        bare = subprocess.Popen(
            [sys.executable, "-m", "bench.tickets", "bare", str(port)], env=env, stderr=log
        )
        servers.append(bare)
        await _wait_up(f"http://127.0.0.1:{port}/docs", bare)
        url = f"http://127.0.0.1:{port}/tickets"
        await _load("closed", url, "-", template, 2.0)  # warm-up
        bare_max = await _load("closed", url, "-", template, seconds)
        _print("bare FastAPI + one asyncpg INSERT, max", bare_max)
        bare.terminate()
        bare.wait(timeout=30)

        # intake as deployed
        from kit.auth import mint_token
        from kit.settings import Settings

        port = free_port()
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": pg_url(intake_db),
            "AMQP_URL": AMQP_URL,
            "LOG_LEVEL": "WARNING",
        }
        # as deployed: the migration job runs first, then the API process
        subprocess.run([sys.executable, "-m", "kit.cli", "migrate", "intake"], env=env, check=True)
        intake = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kit.cli",
                "serve",
                "intake",
                "--roles",
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stderr=log,
        )
        servers.append(intake)
        await _wait_up(f"http://127.0.0.1:{port}/intake/healthz", intake)
        token = mint_token(Settings(environment="test"), subject="bench-agent", roles=["agent"])
        url = f"http://127.0.0.1:{port}/intake/v1/tickets"
        await _load("closed", url, token, template, 2.0)  # warm-up
        ours_max = await _load("closed", url, token, template, seconds)
        _print("intake POST /tickets (+ outbox, SLA timers), max", ours_max)
        half = max(1.0, ours_max["rate"] / 2)
        ours_half = await _load("open", url, token, template, seconds, rate=half)
        _print(f"intake at half its max ({half:.0f} req/s)", ours_half)
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        template.unlink(missing_ok=True)
        log.seek(0)
        errors = [line for line in log.read().decode(errors="replace").splitlines() if "ERROR" in line]
        if errors:
            print(f"{len(errors)} server errors; first: {errors[0][:2000]}")
        log.close()
        await drop_database(bare_db)
        await drop_database(intake_db)
    ratio = ours_max["rate"] / bare_max["rate"]
    p99 = float(ours_half["p99_ms"])
    meets = ratio >= TARGET_RATIO and p99 < TARGET_P99_MS and ours_max["errors"] == 0
    print(
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO}); p99 at half max {p99:.1f} ms (target < {TARGET_P99_MS})"
    )
    return {
        "bare": bare_max,
        "intake_max": ours_max,
        "intake_half": ours_half,
        "ratio": ratio,
        "meets_target": meets,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        _serve_bare(int(sys.argv[2]))
