"""``aftersales``: run, serve, migrate, mint dev tokens, operate dead letters, export docs."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from kit.service import SERVICE_NAMES, ServiceDefinition
from kit.settings import Settings

DEFAULT_PORTS = {name: 8001 + i for i, name in enumerate(SERVICE_NAMES)}


def load_service(name: str) -> ServiceDefinition:
    module = importlib.import_module(f"{name}.app")
    definition: ServiceDefinition = module.service
    return definition


def installed_services() -> list[str]:
    found = []
    for name in SERVICE_NAMES:
        try:
            importlib.import_module(f"{name}.app")
        except ModuleNotFoundError as exc:
            if exc.name not in (name, f"{name}.app"):
                raise
            continue
        found.append(name)
    return found


def _services(names: list[str]) -> list[str]:
    available = installed_services()
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        sys.exit(
            f"unknown or not installed service(s): {', '.join(unknown)}; installed: {', '.join(available)}"
        )
    return chosen


def cmd_run(args: argparse.Namespace) -> None:
    """Every installed service in one process on one origin (the embedded default)."""
    import uvicorn

    from kit.app import create_app
    from kit.gateway import Gateway
    from kit.logging import configure_logging

    names = _services(args.services)
    configure_logging("embedded", level=Settings().log_level, fmt="text")
    apps = {name: create_app(load_service(name), freeze_heap=True) for name in names}
    base = f"http://{args.host}:{args.port}"
    print(f"After-sales platform (embedded mode: SQLite files, in-process transport) on {base}")
    for name in names:
        print(f"  {name:<10} {base}/{name}/v1/docs   health {base}/{name}/healthz")
    if not names:
        print("  (no service is installed yet)")
    print("  dev tokens: .venv/bin/aftersales token --role agent   (roles: see README)")
    sys.stdout.flush()
    uvicorn.run(Gateway(apps), host=args.host, port=args.port, log_level="warning", lifespan="on")


def cmd_serve(args: argparse.Namespace) -> None:
    """One service in its own process (the distributed mode)."""
    import uvicorn

    from kit.app import create_app
    from kit.logging import configure_logging

    definition = load_service(args.service)
    settings = Settings.for_service(args.service)
    configure_logging(args.service, level=settings.log_level, fmt=settings.log_format)
    roles = {r.strip() for r in args.roles.split(",")} if args.roles else None
    if roles and "all" in roles:
        roles = None
    app = create_app(definition, settings=settings, roles=roles, freeze_heap=True)
    port = args.port or DEFAULT_PORTS[args.service]
    uvicorn.run(
        app,
        host=args.host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        access_log=False,
        loop="uvloop",
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    from kit import migrations

    for name in _services(args.services):
        definition = load_service(name)
        url = Settings.for_service(name).service_database_url(name)
        asyncio.run(_wait_and_upgrade(definition.migrations, url, args.wait))
        print(f"{name}: migrated to {migrations.head_revision(definition.migrations)}")


async def _wait_and_upgrade(migrations_dir: Path, url: str, wait: float) -> None:
    """Wait for the database to accept connections (up to ``wait`` seconds), then upgrade."""
    from sqlalchemy import text

    from kit import migrations
    from kit.db import make_engine

    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            break
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(1)
        finally:
            await engine.dispose()
    await migrations.upgrade(migrations_dir, url)


def cmd_makemigration(args: argparse.Namespace) -> None:
    from alembic import command

    from kit.migrations import alembic_config

    definition = load_service(args.service)
    url = Settings.for_service(args.service).service_database_url(args.service)
    asyncio.run(_wait_and_upgrade(definition.migrations, url, 0))
    command.revision(alembic_config(definition.migrations, url), message=args.message, autogenerate=True)


def cmd_token(args: argparse.Namespace) -> None:
    from kit.auth import Role, mint_token

    for role in args.role:
        if role not in Role._value2member_map_:
            sys.exit(f"unknown role {role}; roles: {', '.join(r.value for r in Role)}")
    print(
        mint_token(
            Settings(),
            subject=args.subject or f"dev-{args.role[0]}",
            roles=args.role,
            dealer_id=args.dealer,
            name=args.name,
        )
    )


def cmd_dead_letters(args: argparse.Namespace) -> None:
    import httpx

    from kit.auth import mint_token

    token = args.token or mint_token(Settings(), subject="operator-cli", roles=["admin"])
    base = f"{args.url.rstrip('/')}/{args.service}/v1/admin/dead-letters"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=30) as client:
        if args.action == "list":
            response = client.get(base, params={"limit": args.limit})
        elif args.action == "show":
            response = client.get(f"{base}/{_one(args)}")
        elif args.action == "replay":
            response = client.post(f"{base}/replay", json={"event_ids": args.ids or None})
        else:
            response = client.delete(f"{base}/{_one(args)}")
    if response.status_code == 204:
        print("discarded")
        return
    print(json.dumps(response.json(), indent=2))
    if response.is_error:
        sys.exit(1)


def _one(args: argparse.Namespace) -> str:
    if len(args.ids) != 1:
        sys.exit(f"{args.action} takes exactly one event id")
    return str(args.ids[0])


def cmd_export(args: argparse.Namespace) -> None:
    """Write the generated OpenAPI documents and the RabbitMQ definitions."""
    from kit.app import create_app
    from messaging.consumer import bindings_for
    from messaging.topology import ServiceTopology, rabbitmq_definitions

    out = Path(args.docs)
    (out / "openapi").mkdir(parents=True, exist_ok=True)
    topologies = []
    for name in installed_services():
        definition = load_service(name)
        app = create_app(definition, settings=Settings(environment="development"))
        _write(out / "openapi" / f"{name}.json", app.openapi())
        topologies.append(
            ServiceTopology(
                name,
                bindings_for(definition.handlers, definition.extra_bindings),
                Settings().retry_delay_list,
            )
        )
    _write(Path(args.deploy) / "rabbitmq" / "definitions.json", rabbitmq_definitions(topologies))


def _write(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="aftersales", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run every service in one process (embedded default)")
    p.add_argument("services", nargs="*")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("serve", help="run one service (distributed mode)")
    p.add_argument("service", choices=SERVICE_NAMES)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int)
    p.add_argument("--roles", help="api,consumer,relay,scheduler (default: ROLES or all)")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("migrate", help="upgrade service databases to head")
    p.add_argument("services", nargs="*")
    p.add_argument("--wait", type=float, default=60, help="seconds to wait for the database")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("makemigration", help="autogenerate a migration for a service")
    p.add_argument("service")
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(fn=cmd_makemigration)

    p = sub.add_parser("token", help="mint a development token")
    p.add_argument("--role", action="append", required=True)
    p.add_argument("--dealer")
    p.add_argument("--subject")
    p.add_argument("--name")
    p.set_defaults(fn=cmd_token)

    p = sub.add_parser("dead-letters", help="list, show, replay or discard a service's dead letters")
    p.add_argument("service")
    p.add_argument("action", choices=["list", "show", "replay", "discard"])
    p.add_argument("ids", nargs="*")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--token")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(fn=cmd_dead_letters)

    p = sub.add_parser("export", help="write docs/openapi/*.json and deploy/rabbitmq/definitions.json")
    p.add_argument("--docs", default="docs")
    p.add_argument("--deploy", default="deploy")
    p.set_defaults(fn=cmd_export)

    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
