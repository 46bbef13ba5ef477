"""Real PostgreSQL and RabbitMQ for integration tests: reachability, fresh databases, clean queues."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable

import aio_pika
import asyncpg
import pytest

PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    """Skip locally when the server is absent; under CI a missing server is a failure."""
    if _reachable(host, port):
        return
    message = f"{what} is not reachable on {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI must run integration tests)")
    pytest.skip(message)


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


async def create_database() -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    for _ in range(20):
        try:
            conn = await asyncpg.connect(PG_ADMIN_DSN)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)
            continue
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        finally:
            await conn.close()


async def delete_queues(service: str, names: list[str]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                await channel.queue_delete(name)
            except Exception:
                pass
            finally:
                if not channel.is_closed:
                    await channel.close()


async def wait_until(
    predicate: Callable[[], Awaitable[bool]],
    *,
    timeout: float,
    interval: float = 0.1,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], timeout: float = 120) -> None:
    subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_rabbitmq() -> None:
    run(["rabbitmqctl", "stop"])


def start_rabbitmq(timeout: float = 120) -> None:
    subprocess.Popen(
        ["rabbitmq-server", "-detached"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ).wait()
    deadline = time.monotonic() + timeout
    while True:  # the node takes a moment to exist before await_startup can ask it anything
        done = subprocess.run(
            ["rabbitmqctl", "await_startup", "--timeout", "30"],
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("RabbitMQ did not start")
        time.sleep(1)


def pg_cluster() -> tuple[str, str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return version, "main"


def stop_postgres() -> None:
    version, cluster = pg_cluster()
    run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "stop", "-m", "fast"])


def start_postgres() -> None:
    version, cluster = pg_cluster()
    run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "start"])
