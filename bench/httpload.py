"""A small HTTP/1.1 load generator on asyncio streams, run in its own process so it never shares the
server's interpreter.

Two modes, both over keep-alive connections:

- ``closed``: ``connections`` clients each send the next request as soon as the last one answered, for
  ``seconds``; the result is the maximum sustained rate.
- ``open``: requests are due at a fixed ``rate`` whatever the server does; latency is measured from when a
  request was due, not from when a free connection sent it, so a stalled server is not hidden (no
  coordinated omission).

Request bodies come from a template with ``{n}`` replaced by a per-request sequence number, so every
request creates a distinct record.

``python -m bench.httpload closed|open URL TOKEN TEMPLATE_FILE SECONDS CONNECTIONS [RATE]`` prints one JSON
line: requests, errors, seconds, rate, p50/p90/p99/max latency in ms.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    async def send(self, conn: Connection, template: str, n: str, *, since: float) -> None:
        """POST request ``n`` (``{n}`` in the template, also its Idempotency-Key) and count it: its latency
        from ``since`` when it succeeded, an error when it failed (the connection is opened again)."""
        try:
            status = await conn.post(template.replace("{n}", n).encode(), n)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self.errors += 1
            await conn.open()
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status >= 400:
            self.errors += 1
            return
        self.latencies.append(time.perf_counter() - since)

    def summary(self, seconds: float) -> dict[str, float | int | dict[int, int]]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            if not ordered:
                return float("nan")
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

        return {
            "requests": len(ordered),
            "errors": self.errors,
            "statuses": self.statuses,
            "seconds": round(seconds, 3),
            "rate": round(len(ordered) / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else float("nan"),
        }


class Connection:
    def __init__(self, host: str, port: int, path: str, token: str) -> None:
        self.host, self.port, self.path, self.token = host, port, path, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, body: bytes, key: str) -> int:
        assert self.reader is not None and self.writer is not None
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value.strip())
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        return status


async def closed_loop(url: str, token: str, template: str, seconds: float, connections: int) -> dict:
    parts = urlsplit(url)
    tally = Tally()
    run = f"{time.time_ns():x}"
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80, parts.path, token)
        await conn.open()
        while time.perf_counter() < deadline:
            await tally.send(conn, template, f"{run}-{next(counter)}", since=time.perf_counter())

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return tally.summary(time.perf_counter() - began)


async def open_loop(
    url: str, token: str, template: str, seconds: float, connections: int, rate: float
) -> dict:
    parts = urlsplit(url)
    tally = Tally()
    run = f"{time.time_ns():x}"
    total = int(seconds * rate)
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    began = time.perf_counter()

    async def pacer() -> None:
        for n in range(total):
            due = began + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((n, due))
        for _ in range(connections):
            queue.put_nowait((-1, 0.0))

    async def client() -> None:
        conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80, parts.path, token)
        await conn.open()
        while True:
            n, due = await queue.get()
            if n < 0:
                return
            await tally.send(conn, template, f"{run}-{n}", since=due)

    await asyncio.gather(pacer(), *(client() for _ in range(connections)))
    return tally.summary(time.perf_counter() - began)


def main() -> None:
    mode, url, token, template_file, seconds, connections, *rest = sys.argv[1:]
    with open(template_file, encoding="utf-8") as handle:
        template = handle.read()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if mode == "closed":
        result = asyncio.run(closed_loop(url, token, template, float(seconds), int(connections)))
    else:
        result = asyncio.run(
            open_loop(url, token, template, float(seconds), int(connections), float(rest[0]))
        )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
