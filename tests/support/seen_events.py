"""Events a service under test published, as a tap on the events exchange collected them."""

from __future__ import annotations

from typing import Any

from infra import wait_until


class SeenEvents:
    """Mixed into a harness that fills ``seen`` (CloudEvents as dicts) and is named ``name``."""

    name: str
    seen: list[dict[str, Any]]

    async def event(
        self, event_type: str, within: float = 20, interval: float = 0.05, **match: Any
    ) -> dict[str, Any]:
        """The data of the first event of ``event_type`` from this service whose fields match."""

        async def found() -> bool:
            return any(self._matches(e, event_type, match) for e in self.seen)

        await wait_until(found, timeout=within, interval=interval, what=f"{event_type} {match}")
        return next(e["data"] for e in self.seen if self._matches(e, event_type, match))

    def events(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        return [e["data"] for e in self.seen if self._matches(e, event_type, match)]

    def _matches(self, event: dict[str, Any], event_type: str, match: dict[str, Any]) -> bool:
        return (
            event["type"] == event_type
            and event["source"].endswith("/" + self.name)
            and all(event["data"].get(k) == v for k, v in match.items())
        )
