"""Run the ledger test service as its own process, optionally with a fault injected.

Environment: LEDGER_NAME (service name), DATABASE_URL, AMQP_URL, ROLES, PORT, and LEDGER_FAULT:
  exit-after-publish   the relay dies after the broker confirmed a batch, before marking it sent
  exit-before-ack:N    the consumer dies after committing its N-th event, before acking it
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import uvicorn

from kit.app import create_app
from kit.settings import Settings
from ledger.app import make_service
from messaging.rabbitmq import RabbitMQTransport
from messaging.transport import Delivery, DeliveryCallback


class _DieBeforeAck(RabbitMQTransport):
    def __init__(self, url: str, after: int) -> None:
        super().__init__(url, connection_name="ledger-faulty-consumer")
        self.after = after
        self.acked = 0

    async def consume(self, queue: str, callback: DeliveryCallback, *, prefetch: int) -> None:
        transport = self

        def wrapped(delivery: Delivery) -> None:
            original = delivery.ack

            async def ack() -> None:
                transport.acked += 1
                if transport.acked >= transport.after:
                    os._exit(137)
                await original()

            delivery.ack = ack  # type: ignore[method-assign]
            callback(delivery)

        await super().consume(queue, wrapped, prefetch=prefetch)


def main() -> None:
    name = os.environ["LEDGER_NAME"]
    fault = os.environ.get("LEDGER_FAULT", "")
    settings = Settings(
        database_url=os.environ["DATABASE_URL"],
        amqp_url=os.environ["AMQP_URL"],
        retry_delays=os.environ.get("RETRY_DELAYS", "0.2,0.4"),
        relay_poll_interval=0.2,
        environment="test",
    )
    transport = None
    if fault.startswith("exit-before-ack:"):
        transport = _DieBeforeAck(os.environ["AMQP_URL"], int(fault.split(":")[1]))
    roles: Sequence[str] = os.environ.get("ROLES", "api,consumer,relay,scheduler").split(",")
    app = create_app(
        make_service(name), settings=settings, transport=transport, roles=set(roles), migrate_on_start=False
    )
    if fault == "exit-after-publish":
        app.state.runtime.relay.after_publish = lambda _ids: os._exit(137)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")


if __name__ == "__main__":
    main()
