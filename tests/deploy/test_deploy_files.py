"""Static checks of deploy/: the generated files are current, and the image, compose file and
Kubernetes manifests keep the properties operations rely on. Needs no Docker engine and no cluster."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from kit.service import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generate = _load("deploy_generate", DEPLOY / "generate.py")
ship = _load("deploy_ship_migrations", DEPLOY / "image" / "ship_migrations.py")


# --------------------------------------------------------------------------------------------- generator


def test_generated_files_match_the_generator() -> None:
    out_of_date = generate.stale(generate.render(), DEPLOY)
    assert out_of_date == [], f"regenerate with `python deploy/generate.py`: {out_of_date}"


def test_generating_fewer_services_removes_the_files_of_the_others(tmp_path: Path) -> None:
    generate.write(generate.render(), tmp_path)
    (tmp_path / "k8s" / "secrets.env").write_text("JWT_SECRET=kept\n")

    generate.write(generate.render(["intake", "warranty"]), tmp_path)

    assert sorted(p.name for p in (tmp_path / "k8s").iterdir() if p.is_dir()) == [
        "infra",
        "intake",
        "warranty",
    ]
    compose = yaml.safe_load((tmp_path / "compose.yaml").read_text())
    assert not any(name.startswith("dispatch") or name.endswith("-dispatch") for name in compose["services"])
    assert (tmp_path / "k8s" / "secrets.env").read_text() == "JWT_SECRET=kept\n"
    assert generate.stale(generate.render(["intake", "warranty"]), tmp_path) == []


def test_generator_refuses_a_service_the_platform_does_not_have() -> None:
    with pytest.raises(ValueError, match="billing"):
        generate.render(["intake", "billing"])


# --------------------------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_compose_migrates_each_service_before_starting_its_api_and_worker(
    compose: dict[str, Any], service: str
) -> None:
    entries = compose["services"]
    migrate = entries[f"migrate-{service}"]
    assert migrate["command"] == ["migrate", service, "--wait", "60"]
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert migrate["build"]["args"] == {"SERVICE": service}
    assert migrate["restart"] == "no"
    for kind, roles in (("api", "api"), ("worker", "consumer,relay,scheduler")):
        entry = entries[f"{service}-{kind}"]
        assert entry["image"] == migrate["image"]
        assert entry["command"] == ["serve", service, "--port", "8000", "--roles", roles]
        assert entry["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "rabbitmq": {"condition": "service_healthy"},
            f"migrate-{service}": {"condition": "service_completed_successfully"},
        }
        assert "/healthz" in " ".join(entry["healthcheck"]["test"])
        assert entry["read_only"] is True
        assert entry["cap_drop"] == ["ALL"]


def test_compose_infrastructure_is_healthchecked_and_the_gateway_waits_for_every_api(
    compose: dict[str, Any],
) -> None:
    entries = compose["services"]
    assert entries["postgres"]["image"] == "postgres:16"
    assert entries["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    for name in ("postgres", "rabbitmq", "gateway"):
        assert entries[name]["healthcheck"]["test"], name
    assert set(entries["gateway"]["depends_on"]) == {f"{s}-api" for s in SERVICE_NAMES}
    assert entries["gateway"]["ports"] == ["8080:8080"]


def test_every_service_process_shares_one_environment_with_a_database_per_service(
    compose: dict[str, Any],
) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "x-common-env: &common-env" in text
    common = compose["x-common-env"]
    assert common["ENVIRONMENT"] == "production"
    assert common["DATABASE_URL"].endswith("@postgres:5432/{service}")
    assert common["AMQP_URL"].startswith("amqp://")
    assert "@rabbitmq:5672/" in common["AMQP_URL"]
    assert common["JWT_SECRET"] == "${JWT_SECRET:?set JWT_SECRET}"
    processes = [
        name
        for name in compose["services"]
        if name.endswith(("-api", "-worker")) or name.startswith("migrate-")
    ]
    assert len(processes) == 3 * len(SERVICE_NAMES)
    for name in processes:
        environment = compose["services"][name]["environment"]
        assert {k: v for k, v in environment.items() if k in common} == common, name
        opened = {k: v for k, v in environment.items() if k not in common}
        assert opened == ({} if name != "intake-worker" else SMTP_RECEIVER), name


SMTP_RECEIVER = {"INTAKE_SMTP_RECEIVER_PORT": "2525", "INTAKE_SMTP_RECEIVER_HOST": "0.0.0.0"}


def test_intake_workers_take_inbound_mail_on_a_published_smtp_port(compose: dict[str, Any]) -> None:
    """MX delivery and fax-to-email gateways reach intake's SMTP receiver: compose publishes it on the
    host, k8s puts a LoadBalancer on port 25 in front of the worker pods, which open it on every address."""
    assert compose["services"]["intake-worker"]["ports"] == ["2525:2525"]
    assert "ports" not in compose["services"]["intake-api"]
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "intake" / "worker.yaml").read_text()))
    [worker] = [d for d in documents if d["kind"] == "Deployment"]
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert {"name": "smtp", "containerPort": 2525} in container["ports"]
    assert {e["name"]: e["value"] for e in container["env"]} == SMTP_RECEIVER
    [service] = [d for d in documents if d["kind"] == "Service"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["selector"] == worker["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"] == [{"name": "smtp", "port": 25, "targetPort": "smtp"}]


def test_compose_holds_no_secret_only_required_placeholders() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for secret in ("JWT_SECRET", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"):
        uses = re.findall(r"\$\{" + secret + r"[^}]*\}", text)
        assert uses, secret
        assert set(uses) == {"${" + secret + ":?set " + secret + "}"}, secret
    example = (DEPLOY / ".env.example").read_text()
    assert {"JWT_SECRET=", "POSTGRES_PASSWORD=", "RABBITMQ_PASSWORD="} <= set(example.splitlines())
    assert ".env" in (DEPLOY / ".gitignore").read_text().splitlines()


def test_compose_broker_imports_the_exported_topology_and_creates_the_application_user(
    compose: dict[str, Any],
) -> None:
    rabbit = compose["services"]["rabbitmq"]
    assert "./rabbitmq/definitions.json:/etc/rabbitmq/definitions.d/10-topology.json:ro" in rabbit["volumes"]
    conf = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "load_definitions = /etc/rabbitmq/definitions.d" in conf.splitlines()
    # Definitions imported at boot stop RabbitMQ from creating its default user: compose supplies one.
    users = json.loads(compose["configs"]["rabbitmq-users"]["content"])
    assert users["users"][0]["name"] == "aftersales"
    assert users["permissions"][0] == {
        "user": "aftersales",
        "vhost": "/",
        "configure": ".*",
        "write": ".*",
        "read": ".*",
    }
    target = rabbit["configs"][0]["target"]
    assert target.startswith("/etc/rabbitmq/definitions.d/")
    assert target > "/etc/rabbitmq/definitions.d/10"


def test_postgres_init_creates_one_database_per_service_and_can_run_again() -> None:
    sql = (DEPLOY / "postgres" / "init.sql").read_text()
    for service in SERVICE_NAMES:
        assert (
            f"SELECT 'CREATE DATABASE {service}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{service}')\\gexec"
        ) in sql


def test_gateway_routes_each_service_prefix_to_its_api_and_keeps_metrics_internal() -> None:
    conf = (DEPLOY / "gateway" / "nginx.conf").read_text()
    assert "listen 8080;" in conf
    for service in SERVICE_NAMES:
        assert re.search(
            rf"location /{service}/ {{\s*set \$upstream {service}-api:8000;\s*proxy_pass http://\$upstream;",
            conf,
        ), service
        assert f"location = /{service}/metrics {{ return 404; }}" in conf
    assert conf.count("{") == conf.count("}")


# --------------------------------------------------------------------------------------------- kubernetes


def _k8s_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(K8S.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                yield path.relative_to(K8S).as_posix(), document


K8S_DOCUMENTS = list(_k8s_documents())


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in K8S_DOCUMENTS if d.get("kind") == kind]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_every_kubernetes_document_parses_and_names_its_kind() -> None:
    assert len(K8S_DOCUMENTS) > 6 * 8
    for path, document in K8S_DOCUMENTS:
        assert document.get("apiVersion"), path
        assert document.get("kind"), path


def test_kustomization_lists_every_manifest_of_the_application() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {
        p.relative_to(K8S).as_posix()
        for p in K8S.rglob("*.yaml")
        if p.parent.name != "infra" and p.name != "kustomization.yaml"
    }
    assert listed == on_disk
    assert kustomization["secretGenerator"] == [{"name": "aftersales-secrets", "envs": ["secrets.env"]}]
    assert "k8s/secrets.env" in (DEPLOY / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("deployment", _of_kind("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_every_deployment_is_probed_bounded_and_unprivileged(deployment: dict[str, Any]) -> None:
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    assert pod["topologySpreadConstraints"]
    writable = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for container in pod["containers"]:
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"} <= writable


@pytest.mark.parametrize("deployment", _of_kind("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_every_deployment_has_an_autoscaler_and_a_disruption_budget(deployment: dict[str, Any]) -> None:
    name = deployment["metadata"]["name"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    scalers = [h for h in _of_kind("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
    assert len(scalers) == 1
    assert scalers[0]["spec"]["minReplicas"] >= 2
    budgets = [
        p
        for p in _of_kind("PodDisruptionBudget")
        if _matches(p["spec"]["selector"]["matchLabels"], pod_labels)
    ]
    assert len(budgets) == 1


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_each_service_has_a_migration_job_an_api_and_a_worker(service: str) -> None:
    deployments = {d["metadata"]["name"]: d for d in _of_kind("Deployment")}
    api_args = deployments[f"{service}-api"]["spec"]["template"]["spec"]["containers"][0]["args"]
    worker_args = deployments[f"{service}-worker"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert api_args == ["serve", service, "--port", "8000", "--roles", "api"]
    assert worker_args == ["serve", service, "--port", "8000", "--roles", "consumer,relay,scheduler"]
    jobs = {j["metadata"]["name"]: j for j in _of_kind("Job")}
    job_pod = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]
    assert job_pod["containers"][0]["args"] == ["migrate", service, "--wait", "60"]
    assert job_pod["restartPolicy"] == "Never"
    assert job_pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    services = [s for s in _of_kind("Service") if s["metadata"]["name"] == f"{service}-api"]
    assert _matches(
        services[0]["spec"]["selector"],
        deployments[f"{service}-api"]["spec"]["template"]["metadata"]["labels"],
    )
    worker_file = (K8S / service / "worker.yaml").read_text()
    assert f"#         queueName: {service}.events" in worker_file  # the KEDA example, commented out


def test_ingress_routes_each_service_prefix_to_its_api() -> None:
    (ingress,) = _of_kind("Ingress")
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {f"/{s}": f"{s}-api" for s in SERVICE_NAMES}


def test_every_container_image_names_a_version() -> None:
    images = [c["image"] for _, d in K8S_DOCUMENTS for c in _containers(d)]
    images += [d["spec"]["image"] for d in _of_kind("RabbitmqCluster")]
    images += [d["spec"]["imageName"] for d in _of_kind("Cluster")]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name, image
        assert tag not in ("", "latest"), image
        assert "/" not in tag, image


def _containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
    return list(template["spec"]["containers"]) if template else []


# --------------------------------------------------------------------------------------------- image


def _instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def test_dockerfile_builds_any_service_from_pinned_python_images() -> None:
    instructions = _instructions()
    global_args = dict(
        rest.split("=", 1)
        for k, rest in instructions[: next(i for i, (k, _) in enumerate(instructions) if k == "FROM")]
        if k == "ARG" and "=" in rest
    )
    bases = [
        re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], rest.split()[0])
        for k, rest in instructions
        if k == "FROM"
    ]
    assert len(bases) == 2
    for base in bases:
        name, _, tag = base.partition(":")
        assert name == "python"
        assert tag.startswith("3.11-slim")
        assert tag != "latest"
    assert sum(1 for k, rest in instructions if k == "ARG" and rest == "SERVICE") == 2  # one per stage


def test_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    final = _final_stage()
    settings = dict(final)
    assert settings["USER"] == "10001:10001"
    assert any("useradd --system --uid 10001" in rest for k, rest in final if k == "RUN")
    assert "urllib.request.urlopen('http://127.0.0.1:8000/healthz'" in settings["HEALTHCHECK"]
    assert settings["EXPOSE"] == "8000"
    assert json.loads(settings["ENTRYPOINT"]) == ["aftersales"]
    assert json.loads(settings["CMD"]) == ["serve", "--port", "8000"]
    env = " ".join(rest for k, rest in final if k == "ENV")
    for setting in (
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
        "AFTERSALES_SERVICE=${SERVICE}",
        "DATA_DIR=/tmp/",
    ):
        assert setting in env


def test_build_context_sends_only_the_sources_the_image_needs() -> None:
    lines = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    assert included == {"libs/", "services/", "deploy/image/"}
    for keyword, rest in _instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        source = next(word for word in rest.split() if not word.startswith("--"))
        assert any(source.startswith(i) for i in included), source


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A `python` that prints the arguments it was given, standing in for the image's interpreter."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$*"\n')
    fake.chmod(0o755)
    return tmp_path


def _image_command(fake_python: Path, *args: str) -> str:
    result = subprocess.run(
        ["sh", str(DEPLOY / "image" / "aftersales"), *args],
        env={"PATH": f"{fake_python}:/usr/bin:/bin", "AFTERSALES_SERVICE": "warranty"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_image_serves_its_own_service_when_serve_names_none(fake_python: Path) -> None:
    assert _image_command(fake_python, "serve", "--port", "8000") == "-m kit.cli serve warranty --port 8000"
    assert _image_command(fake_python, "serve") == "-m kit.cli serve warranty"


def test_image_passes_explicit_commands_through_unchanged(fake_python: Path) -> None:
    for command in ("serve intake --roles api", "migrate warranty --wait 60", "dead-letters intake list"):
        assert _image_command(fake_python, *shlex.split(command)) == f"-m kit.cli {command}"


def test_system_packages_name_only_known_services() -> None:
    lines = [
        line.split()
        for line in (DEPLOY / "image" / "system-packages.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {line[0] for line in lines} <= set(SERVICE_NAMES)
    assert {"tesseract-ocr", "poppler-utils"} <= set(next(line for line in lines if line[0] == "intake"))


def test_image_build_finds_a_service_migrations_where_the_service_looks() -> None:
    from ledger.app import service

    target, head = ship.ship_migrations("ledger", Path("unused"))
    assert target == service.migrations
    assert head == "0001"


def test_image_build_copies_migrations_the_wheel_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.app import service

    source = service.migrations
    monkeypatch.setattr(service, "migrations", tmp_path / "site-packages" / "migrations")

    target, head = ship.ship_migrations("ledger", source)

    assert (target / "env.py").is_file()
    assert head == "0001"


def test_image_build_fails_when_a_service_has_no_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.app import service

    monkeypatch.setattr(service, "migrations", tmp_path / "missing")
    with pytest.raises(SystemExit, match="no migrations"):
        ship.ship_migrations("ledger", tmp_path / "also-missing")


# --------------------------------------------------------------------------------------------- runbooks

RUNBOOKS = ROOT / "docs" / "runbooks"


def test_operations_runbook_documents_every_setting() -> None:
    from kit.settings import Settings

    text = (RUNBOOKS / "operations.md").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in text]
    assert missing == []


def test_operations_runbook_names_every_metric_the_services_export() -> None:
    from prometheus_client.metrics import MetricWrapperBase

    from kit import metrics as kit_metrics
    from messaging import metrics as messaging_metrics

    text = (RUNBOOKS / "operations.md").read_text()
    exported = [
        value._name
        for module in (kit_metrics, messaging_metrics)
        for value in vars(module).values()
        if isinstance(value, MetricWrapperBase)
    ]
    assert len(exported) >= 9
    assert [name for name in exported if f"`{name}" not in text] == []


def test_partner_page_marks_the_webhooks_service_as_planned() -> None:
    text = (RUNBOOKS / "partners.md").read_text()
    assert "Webhooks service: planned." in text
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert f"`{header}`" in text
