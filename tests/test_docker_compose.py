"""Static checks of the container setup: docker-compose.yml, Dockerfile and docker/entrypoint.sh.

No database or Docker daemon is needed: the compose file is parsed with PyYAML, the
Dockerfile and entrypoint are read as text, and the entrypoint is run with stub
``python`` / ``gunicorn`` / ``celery`` commands to check what it would execute.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

APP_SERVICES = ("web", "worker", "beat")

# ${VAR:-default} or ${VAR-default}; ${VAR} and ${VAR:?error} have no default.
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?P<operator>:?[-?])?(?P<default>[^}]*)\}")


def substitute_defaults(value: str) -> str:
    """Replace each ``${VAR:-default}`` with its default, as Compose does when VAR is unset."""

    def default(match: re.Match[str]) -> str:
        if not (match.group("operator") or "").endswith("-"):
            raise ValueError(f"${{{match.group('name')}}} has no default in {value!r}")
        return match.group("default")

    return _VARIABLE.sub(default, value)


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a list."""
    environment = service["environment"]
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


# --- helper ------------------------------------------------------------------------------


def test_substitute_defaults_uses_the_default_value():
    assert substitute_defaults("postgres://okr:${POSTGRES_PASSWORD:-okr}@postgres/okr") == (
        "postgres://okr:okr@postgres/okr"
    )
    assert substitute_defaults("${A-x}/${B:-}") == "x/"
    assert substitute_defaults("redis://redis:6379/0") == "redis://redis:6379/0"


def test_substitute_defaults_rejects_variables_without_default():
    with pytest.raises(ValueError, match="has no default"):
        substitute_defaults("${SECRET_KEY:?set SECRET_KEY}")
    with pytest.raises(ValueError, match="has no default"):
        substitute_defaults("${SECRET_KEY}")


# --- docker-compose.yml ----------------------------------------------------------------


def test_compose_defines_exactly_the_five_services(services):
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}


def test_postgres_service_uses_postgres_16_image(services):
    assert services["postgres"]["image"].startswith("postgres:16")


def test_redis_service_uses_redis_7_image(services):
    assert services["redis"]["image"].startswith("redis:7")


def test_postgres_has_pg_isready_healthcheck(services):
    check = services["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in (" ".join(check) if isinstance(check, list) else check)


def test_redis_has_redis_cli_ping_healthcheck(services):
    check = services["redis"]["healthcheck"]["test"]
    command = " ".join(check) if isinstance(check, list) else check
    assert "redis-cli" in command
    assert "ping" in command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_builds_from_project_root(services, name):
    assert services[name]["build"] == "."


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_command_is_its_role(services, name):
    assert services[name]["command"] == name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_database_url_points_at_postgres_service(services, name):
    url = urlsplit(substitute_defaults(environment_of(services[name])["DATABASE_URL"]))
    assert url.scheme == "postgres"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.username == "okr"
    assert url.password == "okr"
    assert url.path == "/okr"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_redis_url_points_at_redis_service(services, name):
    url = urlsplit(substitute_defaults(environment_of(services[name])["REDIS_URL"]))
    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert url.port == 6379
    assert url.path == "/0"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_uses_production_settings(services, name):
    assert environment_of(services[name])["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_requires_secret_key_from_environment(services, name):
    assert environment_of(services[name])["SECRET_KEY"].startswith("${SECRET_KEY:?")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_postgres_and_redis(services, name):
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_web_publishes_port_8000(services):
    assert services["web"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_background_services_publish_no_ports(services, name):
    assert "ports" not in services[name]


def test_postgres_password_is_shared_by_postgres_and_database_url(services):
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-okr}"
    assert "${POSTGRES_PASSWORD:-okr}" in environment_of(services["web"])["DATABASE_URL"]


# --- Dockerfile ------------------------------------------------------------------------------


def _dockerfile_instruction(name: str) -> str:
    """The argument of the last ``name`` instruction in the Dockerfile (the one that applies)."""
    matches = re.findall(rf"^{name}\s+(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert matches, f"Dockerfile has no {name}"
    return matches[-1].strip()


def test_dockerfile_entrypoint_is_docker_entrypoint_sh():
    entrypoint = json.loads(_dockerfile_instruction("ENTRYPOINT"))
    assert len(entrypoint) == 1
    assert entrypoint[0].endswith("docker/entrypoint.sh")


def test_dockerfile_uses_python_311_slim_and_production_settings():
    assert _dockerfile_instruction("FROM") == "python:3.11-slim"
    env_lines = re.findall(r"^ENV\s+(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert any("DJANGO_SETTINGS_MODULE=config.settings.production" in line for line in env_lines)


def test_dockerfile_turns_embedded_services_off():
    env_lines = re.findall(r"^ENV\s+(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert any("EMBEDDED_SERVICES=false" in line for line in env_lines)


def test_dockerfile_runs_as_non_root_app_user_and_exposes_8000():
    assert _dockerfile_instruction("USER") == "app"
    assert _dockerfile_instruction("EXPOSE") == "8000"


def test_dockerfile_default_command_is_gunicorn_wsgi():
    command = json.loads(_dockerfile_instruction("CMD"))
    assert command == [
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        "0.0.0.0:8000",
        "--workers",
        "3",
        "--access-logfile",
        "-",
    ]


# --- docker/entrypoint.sh ------------------------------------------------------------------


def test_entrypoint_exists_and_is_executable():
    assert ENTRYPOINT.is_file()
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    assert os.access(ENTRYPOINT, os.X_OK)


def test_entrypoint_uses_strict_shell_mode():
    script = ENTRYPOINT.read_text()
    assert script.startswith("#!/bin/sh\n")
    assert re.search(r"^set -eu$", script, flags=re.MULTILINE)


@pytest.mark.parametrize("role", APP_SERVICES)
def test_entrypoint_has_a_branch_for_each_role(role):
    assert re.search(rf"^\s*{role}\)$", ENTRYPOINT.read_text(), flags=re.MULTILINE)


def test_entrypoint_web_branch_migrates_before_gunicorn():
    script = ENTRYPOINT.read_text()
    branch = re.search(r"^\s*web\)$(.*?);;", script, flags=re.MULTILINE | re.DOTALL).group(1)
    assert "python manage.py migrate_platform" in branch
    assert "exec gunicorn config.wsgi:application" in branch
    assert branch.index("migrate_platform") < branch.index("exec gunicorn")


@pytest.fixture
def stub_path(tmp_path):
    """A PATH whose python, gunicorn and celery only print how they were called.

    The stub ``python`` succeeds for ``python -c`` (the database wait), so the web role
    gets past the wait without a database.
    """
    if shutil.which("sh") is None:
        pytest.skip("needs /bin/sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {
        "python": '[ "$1" = "-c" ] && exit 0\necho "python $*"\n',
        "gunicorn": 'echo "gunicorn $*"\n',
        "celery": 'echo "celery $*"\n',
    }
    for name, body in stubs.items():
        stub = bin_dir / name
        stub.write_text("#!/bin/sh\n" + body)
        stub.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def _run_entrypoint(stub_path: str, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": stub_path, "DATABASE_URL": "postgres://okr:okr@postgres:5432/okr"}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_entrypoint_web_waits_migrates_then_execs_gunicorn(stub_path):
    result = _run_entrypoint(stub_path, "web")
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if not line.startswith("entrypoint:")]
    assert commands == [
        "python manage.py migrate_platform",
        "gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers 3 --access-logfile -",
    ]
    assert "entrypoint: database is ready." in result.stdout


def test_entrypoint_worker_execs_celery_worker(stub_path):
    result = _run_entrypoint(stub_path, "worker")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "celery -A config worker --loglevel=INFO\n"


def test_entrypoint_beat_execs_celery_beat_with_tmp_schedule(stub_path):
    result = _run_entrypoint(stub_path, "beat")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "celery -A config beat --loglevel=INFO --schedule /tmp/celerybeat-schedule\n"


def test_entrypoint_runs_any_other_command_as_given(stub_path):
    result = _run_entrypoint(stub_path, "python", "manage.py", "shell")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "python manage.py shell\n"
