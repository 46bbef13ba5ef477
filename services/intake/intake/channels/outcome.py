"""The two outcomes every channel parser speaks besides success: a rejection and a note."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Note:
    """A non-fatal degradation met while parsing (kept with the parsed result for the agent to see).

    ``code`` is stable and machine-readable (``bad-charset``, ``bad-base64`` …); ``detail`` is for people.
    """

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input refused by a limit or a check; ``raw`` is kept so the caller can quarantine it.

    ``code`` is stable and machine-readable (``message-too-large``, ``too-many-parts`` …);
    ``reason`` is a sentence an operator can read in the quarantine list.
    """

    code: str
    reason: str
    raw: bytes

    def __repr__(self) -> str:  # the raw bytes can be megabytes; keep logs and test output readable
        return f"Rejected(code={self.code!r}, reason={self.reason!r}, raw=<{len(self.raw)} bytes>)"
