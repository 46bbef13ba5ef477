"""Image build step: make sure the installed service finds its Alembic migrations.

A service keeps ``migrations/`` beside its package (``services/<name>/migrations``), which its wheel
does not carry. After the wheels are installed this copies the folder to wherever the installed
service definition looks for it, then proves the image can load the service and read its head
revision, so a broken image fails at build time rather than at ``aftersales migrate``.

    python ship_migrations.py SERVICE SOURCE_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from kit.cli import load_service
from kit.migrations import head_revision


def ship_migrations(service: str, source: Path) -> tuple[Path, str]:
    """Put ``source`` where ``service`` expects its migrations (unless already there); return (path, head)."""
    target = load_service(service).migrations
    if not (target / "env.py").is_file():
        if not (source / "env.py").is_file():
            raise SystemExit(f"{service}: no migrations at {target} nor at {source}")
        shutil.copytree(source, target, dirs_exist_ok=True)
    head = head_revision(target)
    if head is None:
        raise SystemExit(f"{service}: {target} holds no migration")
    return target, head


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    target, head = ship_migrations(argv[0], Path(argv[1]))
    print(f"{argv[0]}: migrations at {target}, head {head}")


if __name__ == "__main__":
    main(sys.argv[1:])
