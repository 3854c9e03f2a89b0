"""docker-compose.yml, Dockerfile and .env.example, checked statically (no Docker engine needed).

The compose file follows Airflow 3's official layout; these tests pin the properties that
matter for operations and security: healthchecks, migrations before anything starts, only
the UI port published, non-root services, the data home on a volume, secrets from .env.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"

CORE = ["postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer"]
WORKERS = ["airflow-worker-1", "airflow-worker-2"]
HOME_MOUNT = "/opt/pcve/home"
ONE_SHOT = {"airflow-init", "warehouse-db-init"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _airflow_services(services) -> list[str]:
    return [name for name in services if name.startswith("airflow-")]


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def _mounts(service: dict) -> dict[str, str]:
    """target -> source of each volume mount (short syntax)."""
    out = {}
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            source, target = v.split(":")[:2]
        else:
            source, target = v.get("source"), v["target"]
        out[target] = source
    return out


def test_official_layout_services_present(services):
    for name in CORE + ["redis"] + WORKERS:
        assert name in services, name
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, s in services.items():
        if name in ONE_SHOT:
            continue
        hc = s.get("healthcheck")
        assert hc and hc.get("test"), f"{name} has no healthcheck"
        assert hc.get("interval") and hc.get("retries"), name


def test_init_runs_migrations_and_everything_waits_for_it(services):
    init = services["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert "airflow db migrate" in script
    pool = re.search(r'WRITER_POOL = "([^"]+)"', (REPO / "dags" / "_common.py").read_text()).group(1)
    assert f"airflow pools set {pool} 1" in script
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert init.get("restart") == "no"
    for name in _airflow_services(services):
        if name == "airflow-init":
            continue
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name


def test_only_the_ui_and_portal_ports_are_published_on_loopback(services):
    published = {}
    for name, s in services.items():
        for p in s.get("ports") or []:
            spec = str(p if not isinstance(p, dict) else f"{p.get('published')}:{p['target']}")
            assert name not in published, f"{name} publishes more than one port"
            published[name] = spec
    assert set(published) == {"airflow-apiserver", "portal"}, published
    env = {}  # .env left at its defaults
    for name, port in (("airflow-apiserver", "8080"), ("portal", "8081")):
        bind, host_port, container_port = _interpolate(published[name], env).split(":")
        assert (bind, host_port, container_port) == ("127.0.0.1", port, port), name


def test_portal_serves_the_shared_home_with_least_privilege(compose, services):
    portal = services["portal"]
    cmd = portal["command"]
    assert portal["entrypoint"][-1] == "pcve" and cmd[0] == "serve"
    assert cmd[cmd.index("--home") + 1] == HOME_MOUNT and _env(portal)["PCVE_HOME"] == HOME_MOUNT
    # the same named volume as every Airflow service: it writes into the sources intake reads
    assert _mounts(portal)[HOME_MOUNT] == _mounts(services["airflow-scheduler"])[HOME_MOUNT]
    port = cmd[cmd.index("--port") + 1]
    assert _interpolate(portal["ports"][0], {}).split(":")[-1] == port
    assert f"localhost:{port}/" in " ".join(portal["healthcheck"]["test"])
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # inside its container; published on loopback only
    env = _env(portal)
    # triggers office_intake on the compose API server, with the admin login from .env
    api_port = services["airflow-apiserver"]["ports"][0].split(":")[-1]
    assert env["PCVE_PORTAL_AIRFLOW_URL"] == f"http://airflow-apiserver:{api_port}"
    assert env["PCVE_PORTAL_AIRFLOW_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert env["PCVE_PORTAL_SECRET"].startswith("${PCVE_PORTAL_SECRET:?")
    # no metadata database, Fernet key or other Airflow secret, and no .env wholesale
    assert not [k for k in env if k.startswith("AIRFLOW__")] and "env_file" not in portal
    # every office's source override reaches it, as it reaches intake
    from pcve.config import load_config

    for office in load_config().offices:
        assert f"PCVE_SOURCE_{office.upper()}" in env, office
    assert portal["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert portal["build"] == services["airflow-scheduler"]["build"]


def test_services_run_as_non_root(services):
    for name, s in services.items():
        user = str(s.get("user") or "")
        assert user, f"{name} sets no user"
        uid = user.split(":")[0]
        assert uid not in ("0", "root"), f"{name} runs as root"
    assert re.search(r"^USER\s+50000(:0)?\s*$", DOCKERFILE.read_text(), re.M)


def test_home_is_a_named_volume_in_every_airflow_service(compose, services):
    for name in _airflow_services(services):
        source = _mounts(services[name]).get(HOME_MOUNT)
        assert source, f"{name} does not mount the home at {HOME_MOUNT}"
        assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"
        assert _env(services[name])["PCVE_HOME"] == HOME_MOUNT


def test_local_executor_by_default_and_celery_profile_scales_out(services):
    for name in _airflow_services(services):
        env = _env(services[name])
        assert re.fullmatch(r"\$\{AIRFLOW__CORE__EXECUTOR:-LocalExecutor\}", env["AIRFLOW__CORE__EXECUTOR"])
        assert "PCVE_WAREHOUSE" in env
        assert "postgres" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    for name in ["redis", *WORKERS]:
        assert {"celery", "scale"} <= set(services[name].get("profiles") or []), name
    for name in CORE:
        assert not services[name].get("profiles"), f"{name} must run without a profile"
    for name in WORKERS:
        w = services[name]
        assert w["command"] == "celery worker"
        assert w["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["airflow-worker-1"]["hostname"] != services["airflow-worker-2"]["hostname"]
    # The core services wait for redis only when the profile is on.
    assert services["airflow-scheduler"]["depends_on"]["redis"].get("required") is False


def test_image_is_built_from_the_project_dockerfile(services):
    for name in _airflow_services(services):
        build = services[name]["build"]
        assert build["context"] == "." and build["dockerfile"] == "Dockerfile", name


def test_dockerfile_installs_the_locked_dependencies():
    text = DOCKERFILE.read_text()
    assert "uv.lock" in text
    syncs = re.findall(r"uv sync[^\n]*", text)
    assert syncs and all("--frozen" in s for s in syncs), syncs
    assert not re.search(r"\bpip install\b(?![^\n]*\buv==)", text), "dependencies must come from uv.lock"


def test_dockerfile_dependency_groups_exist_in_pyproject():
    groups = set(re.findall(r"--group\s+([\w-]+)", DOCKERFILE.read_text()))
    defined = set(tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"])
    assert groups, "the image installs a dependency group for its services"
    assert not groups - defined, f"pyproject.toml lacks dependency group(s) {sorted(groups - defined)}"
    docker = " ".join(tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["docker"])
    for pkg in ("psycopg2", "apache-airflow-providers-celery", "redis", "dbt-postgres"):
        assert pkg in docker, pkg


def _required_vars(text: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", text))


def test_secrets_come_from_env_and_the_example_lists_them(services):
    compose_text = COMPOSE.read_text()
    example = ENV_EXAMPLE.read_text()
    keys = dict(re.findall(r"^(\w+)=(.*)$", example, re.M))
    for var in _required_vars(compose_text):
        assert var in keys, f".env.example does not list {var}"
    for key, value in keys.items():
        if re.search(r"PASSWORD|SECRET|FERNET|TOKEN", key):
            assert value.strip() == "", f".env.example must not carry a value for {key}"
    # No literal secret in the compose file: every sensitive setting is interpolated.
    for name, s in services.items():
        for key, value in _env(s).items():
            if re.search(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY)$", key):
                assert str(value).startswith("${"), f"{name}.{key} is a literal"


def test_env_file_is_ignored_and_not_committed():
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=REPO,
                             capture_output=True, text=True)
    assert tracked.returncode != 0, ".env is committed"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO)
    assert ignored.returncode == 0, ".env is not in .gitignore"
    assert ENV_EXAMPLE.exists()
    assert subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO).returncode != 0


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (nested defaults too), innermost first."""
    pattern = re.compile(r"\$\{(\w+)(?:(:?[-?])([^${}]*))?\}")
    while True:
        m = pattern.search(value)
        if not m:
            return value
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        got = env.get(name)
        if op and op.endswith("-"):
            rep = got if got else arg
        elif op and op.endswith("?"):
            assert got, f"{name} is required: {arg}"
            rep = got
        else:
            rep = got or ""
        value = value[:m.start()] + rep + value[m.end():]


def test_scale_profile_warehouse_is_the_compose_postgres(services):
    from pcve.db import target

    init = services["warehouse-db-init"]
    assert {"celery", "scale"} <= set(init.get("profiles") or [])
    script = "\n".join(init["command"])
    db_name = re.search(r"CREATE DATABASE (\w+)", script).group(1)
    assert init["environment"]["PGHOST"] == "postgres"
    env_file = {"POSTGRES_PASSWORD": "s3cret", "PCVE_WAREHOUSE": ""}  # .env left at the example's empty value
    for name in WORKERS:
        env = _env(services[name])
        assert services[name]["depends_on"]["warehouse-db-init"]["condition"] == "service_completed_successfully"
        t = target(url=_interpolate(env["PCVE_WAREHOUSE"], env_file))
        assert (t.kind, t.host, t.port, t.dbname, t.user) == ("postgres", "postgres", 5432, db_name, "airflow"), name
        assert t.password is None, "the URL carries no password; it comes from PCVE_WAREHOUSE_PASSWORD"
        assert _interpolate(env["PCVE_WAREHOUSE_PASSWORD"], env_file) == "s3cret"
        # an explicit PCVE_WAREHOUSE in .env wins
        assert _interpolate(env["PCVE_WAREHOUSE"], {**env_file, "PCVE_WAREHOUSE": "postgres://x@db/w"}) \
            == "postgres://x@db/w"
    # Without the profile, the default stays the embedded DuckDB file.
    for name in _airflow_services(services):
        if name not in WORKERS:
            assert target(url=_interpolate(_env(services[name])["PCVE_WAREHOUSE"], env_file)).kind == "duckdb", name
    # .env.example documents the scale profile's URL, and it names the same database.
    documented = re.search(r"^#\s*PCVE_WAREHOUSE=(\S+)", ENV_EXAMPLE.read_text(), re.M).group(1)
    assert target(url=documented).dbname == db_name and target(url=documented).host == "postgres"


def test_scale_settings_come_from_one_file_that_compose_and_make_airflow_scale_share(services, tmp_path):
    from pcve.airflow_runner import SCALE_ENV_FILE, read_env_file, scale_env

    shared = read_env_file(SCALE_ENV_FILE)
    assert shared, "config/airflow-scale.env holds the scale profile's settings"
    rel = str(SCALE_ENV_FILE.relative_to(REPO))
    for name in _airflow_services(services):
        files = [f["path"] if isinstance(f, dict) else f for f in services[name].get("env_file") or []]
        assert rel in files, f"{name} does not read {rel}"
        # compose's `environment` would win over the file: none of its keys may be set there
        overridden = set(shared) & set(_env(services[name]))
        assert not overridden, (name, overridden)
    # no host, port or secret in the shared file: those differ between compose and one machine
    for key, value in shared.items():
        assert not re.search(r"(?i)password|secret|fernet|://|\b\d{4,5}\b", f"{key}={value}"), key
    # `make airflow-scale` runs every process with exactly these values
    env = scale_env(tmp_path / "home", "postgres://u:p@127.0.0.1:5432/x")
    assert {k: env[k] for k in shared} == shared
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_the_settings_a_killed_worker_relies_on_are_in_the_shared_file(services):
    """tests/test_cluster.py's kill test depends on these: a task's message acknowledged only when it
    ended, one task at a time taken from the queue, a dead worker's try failed after a bounded
    heartbeat silence (then retried elsewhere), and task instances naming their worker. They come
    from config/airflow-scale.env, which every Airflow service of the compose file reads."""
    from pcve.airflow_runner import SCALE_ENV_FILE, read_env_file

    shared = read_env_file(SCALE_ENV_FILE)
    assert shared["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
    assert shared["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"] == "1"
    # below Airflow's 300 s default, above the heartbeat interval (a live but busy task must not be failed)
    assert 30 <= int(shared["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]) < 300
    assert shared["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "pcve.airflow_runner.worker_hostname"
    for name in [*WORKERS, "airflow-scheduler"]:
        files = [f["path"] if isinstance(f, dict) else f for f in services[name].get("env_file") or []]
        assert files and files[0] == str(SCALE_ENV_FILE.relative_to(REPO)), name
