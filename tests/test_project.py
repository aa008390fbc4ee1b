"""Project-wide checks: migrations, deploy settings, the API schema."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.core.management import call_command

from tests.processes import child_env, manage


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage(*args, env=child_env(**env), check=False, timeout=120)


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9vR2mZ" * 6,
    "ALLOWED_HOSTS": "desk.example.com",
    "DATABASE_URL": "postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("EMAIL_PORT", "twenty-five")])
def test_malformed_settings_are_named(name, value):
    result = run_manage("check", env={name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_openapi_schema_is_valid(db, client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert "/api/v1/me/" in schema["paths"]
    # Every operation declares exactly the parameters its path holds.
    for path, operations in schema["paths"].items():
        in_path = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, (method, path, declared)


def test_swagger_ui_is_served_locally(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger" in body.lower()
    assert "cdn" not in body.lower()
