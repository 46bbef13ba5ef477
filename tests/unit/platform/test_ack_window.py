"""Acks of consumed RabbitMQ deliveries: one frame per contiguous run, and never ahead of a commit."""

from __future__ import annotations

import asyncio
from typing import Any

from messaging.rabbitmq import _AckWindow


class FakeChannel:
    """Records the frames an ack window sends, as RabbitMQ would see them."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, int, bool]] = []

    async def basic_ack(self, delivery_tag: int, multiple: bool = False, wait: bool = True) -> None:
        self.frames.append(("ack", delivery_tag, multiple))

    async def basic_nack(
        self, delivery_tag: int, multiple: bool = False, requeue: bool = True, wait: bool = True
    ) -> None:
        self.frames.append(("nack", delivery_tag, requeue))

    def settled(self) -> set[int]:
        """The tags the broker considers settled after these frames."""
        done: set[int] = set()
        for kind, tag, flag in self.frames:
            if kind == "ack" and flag:
                done |= set(range(1, tag + 1))
            else:
                done.add(tag)
        return done


def window(hold: float = 0.5) -> tuple[_AckWindow, FakeChannel]:
    channel = FakeChannel()
    fake: Any = channel
    return _AckWindow(fake, hold=hold), channel


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_committed_batch_is_acked_with_one_frame() -> None:
    acks, channel = window()
    for tag in range(1, 101):
        await acks.ack(tag)
    await settle()
    assert channel.frames == [("ack", 100, True)]


async def test_a_batch_committed_before_an_earlier_one_waits_for_it() -> None:
    acks, channel = window()
    for tag in range(4, 7):  # the second batch commits first
        await acks.ack(tag)
    await settle()
    assert channel.settled() == set()  # 1-3 are still being handled: acking 6 "multiple" would ack them
    for tag in range(1, 4):
        await acks.ack(tag)
    await settle()
    assert channel.frames == [("ack", 6, True)]


async def test_a_nack_goes_out_at_once_and_before_any_ack_that_spans_it() -> None:
    acks, channel = window()
    await acks.nack(2, requeue=True)
    assert channel.frames == [("nack", 2, True)]
    await acks.ack(3)
    await acks.ack(1)
    await settle()
    assert channel.frames == [("nack", 2, True), ("ack", 3, True)]


async def test_acks_held_behind_a_slow_delivery_are_sent_one_by_one_after_a_while() -> None:
    acks, channel = window(hold=0.05)
    await acks.ack(2)
    await acks.ack(3)
    await settle()
    assert channel.frames == []
    await asyncio.sleep(0.1)
    assert channel.frames == [("ack", 2, False), ("ack", 3, False)]
    await acks.ack(1)  # the slow one commits at last
    await settle()
    assert channel.frames[-1] == ("ack", 1, True)
    assert channel.settled() == {1, 2, 3}
