"""docker-compose.yml validates against the Compose Specification and matches the code."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from mevbot import metrics
from mevbot.config_keys import scan
from mevbot.supervisor import SERVICES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SCHEMA = json.loads((ROOT / "tests/integration/foundation/data/compose-spec.schema.json").read_text())
PROMETHEUS = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())


def test_validates_against_the_compose_spec_schema() -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(COMPOSE)


def _compose_binary() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(
    _compose_binary() is None, reason="no docker compose binary here (the schema test still runs)"
)
def test_docker_compose_config_accepts_it() -> None:
    cmd = [*(_compose_binary() or []), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_matches_the_code(name: str) -> None:
    service = COMPOSE["services"][name]
    port = SERVICES[name]
    assert "container_name" not in service and "ports" not in service, "would break --scale"
    assert service["command"] == ["python", "-m", f"services.{name}"]
    assert importlib.util.find_spec(f"services.{name}") is not None
    assert (ROOT / "services" / name / "__main__.py").exists(), f"services/{name}/__main__.py missing"
    assert service["environment"]["HTTP_PORT"] == str(port)
    assert str(port) in service["expose"]
    check = service["healthcheck"]["test"]
    assert check[:4] == ["CMD", "python", "-m", "mevbot.runtime.probe"]
    assert check[4] == f"http://127.0.0.1:{port}/health/ready"
    assert importlib.util.find_spec("mevbot.runtime.probe") is not None
    for dependency in ("nats", "redis"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in COMPOSE["services"][dependency]
    assert service["build"]["dockerfile"] == "Dockerfile" and (ROOT / "Dockerfile").exists()


def test_every_env_var_given_to_a_service_is_read_by_the_code() -> None:
    keys = set(scan(ROOT))
    for name in SERVICES:
        unknown = set(COMPOSE["services"][name]["environment"]) - keys
        assert unknown == set(), f"{name}: {unknown} not read anywhere in the code"


def test_prometheus_scrapes_every_replica_of_every_service() -> None:
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    for name, port in SERVICES.items():
        (sd,) = jobs[name]["dns_sd_configs"]
        assert sd["names"] == [name] and sd["port"] == port and sd["type"] == "A"
    volumes = COMPOSE["services"]["prometheus"]["volumes"]
    assert any(v.startswith("./deploy/prometheus/prometheus.yml:") for v in volumes)


def test_grafana_dashboard_queries_only_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/mevbot.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {
        re.sub(r"_(total|bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"\bmev_[a-z_]+", e)
    }
    defined = {
        getattr(metrics, attr)._name for attr in dir(metrics) if hasattr(getattr(metrics, attr), "_name")
    }
    assert used and used <= defined, used - defined
    for path in (
        "deploy/grafana/provisioning/datasources/prometheus.yml",
        "deploy/grafana/provisioning/dashboards/mevbot.yml",
    ):
        assert yaml.safe_load((ROOT / path).read_text())["apiVersion"] == 1


def test_no_devnet_profile_yet_but_room_for_it() -> None:
    # The devnet work adds `profiles: [devnet]` services; the default stack must not need them.
    for name, service in COMPOSE["services"].items():
        assert "devnet" not in service.get("profiles", []) or name not in SERVICES


def test_schema_check_is_not_vacuous() -> None:
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["validator"]["depends_on"]["nats"]["condition"] = "when_it_feels_like_it"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(broken)


def test_the_image_carries_the_compiled_hot_modules_built_by_the_same_interpreter() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    images = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    # mevbot.native loads a compiled module only for the interpreter that built it: same base image
    assert len(images) == 2 and len(set(images)) == 1
    assert "FROM python:3.11-slim AS native" in dockerfile
    assert "RUN python scripts/build_native.py" in dockerfile
    assert "COPY --from=native /app/build/native ./build/native" in dockerfile
