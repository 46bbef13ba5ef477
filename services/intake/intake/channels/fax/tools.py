"""Running the external document tools (poppler, tesseract) on hostile input: a time limit, a memory
limit, no core dumps, a bounded output file size, a minimal environment, and no shell."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
from collections.abc import Sequence
from dataclasses import dataclass


class ToolError(Exception):
    """An external tool is missing, timed out, or could not be started."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Per-run bounds. ``memory_bytes`` caps the address space, ``output_file_bytes`` any file written."""

    timeout_seconds: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024
    output_file_bytes: int = 512 * 1024 * 1024


def tool_path(name: str) -> str:
    """The absolute path of ``name`` on PATH (or ``name`` itself when it is already a path)."""
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} is not installed")
    return found


async def run_tool(
    argv: Sequence[str],
    *,
    limits: ToolLimits,
    stdin: bytes | None = None,
    cwd: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> ToolResult:
    """Run ``argv`` (first item resolved on PATH) under ``limits``; raise :class:`ToolError` on timeout."""
    executable = tool_path(argv[0])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_THREAD_LIMIT": "1"}
    if "TESSDATA_PREFIX" in os.environ:
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    env.update(extra_env or {})
    cpu_seconds = int(limits.timeout_seconds) + 1

    def confine() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_file_bytes, limits.output_file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    try:
        process = await asyncio.create_subprocess_exec(
            executable,
            *argv[1:],
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
            preexec_fn=confine,
        )
    except OSError as exc:
        raise ToolError(f"{argv[0]} could not be started: {exc}") from exc
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            stdout, stderr = await process.communicate(stdin)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise ToolError(f"{argv[0]} took longer than {limits.timeout_seconds:g} s") from None
    return ToolResult(process.returncode or 0, stdout, stderr)
