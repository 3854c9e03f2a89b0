"""Every `PCVE_*` environment variable, read in this one place into one typed, frozen object.

`settings()` is what the code asks; it reads the environment again only when a `PCVE_*` variable
changed (a test's monkeypatch, `pcve airflow` passing a port on), so a long-lived process pays one
read. No other file reads a `PCVE_*` variable (tests/test_settings.py greps the tree for it); writing
one for a child process (the Airflow runner, dbt's profile) is not reading it.

The README's table of variables is generated from the fields below (`python -m pcve.core.settings`)
and tests/test_settings.py checks that it matches.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from pcve.core.paths import CHECKOUT, project_dir

# Variables with the office code in their name (PCVE_SOURCE_<OFFICE>, PCVE_SOURCE_<OFFICE>_CONN_ID).
SOURCE_PREFIX = "PCVE_SOURCE_"


def default_home() -> Path:
    """The one default home of the CLI, the DAGs and the Airflow runner: the checkout's `demo/`
    (what `make demo` fills); installed from a wheel, `demo/` in the working directory."""
    return (CHECKOUT / "demo") if CHECKOUT is not None else Path.cwd() / "demo"


def _text(v: str) -> str:
    return v.strip()


def _secret(v: str) -> str:
    return v  # a password may begin or end with a space


def _opt(v: str) -> str | None:
    return v.strip() or None


def _path(v: str) -> Path:
    return Path(v).expanduser()


def _opt_path(v: str) -> Path | None:
    return Path(v).expanduser() if v.strip() else None


def _flag(v: str) -> bool:
    """On unless it says no: 0, false, no, off (any case)."""
    return v.strip().lower() not in ("0", "false", "no", "off")


def _set(v: str) -> bool:
    """On when set to anything non-empty."""
    return bool(v)


def _var(env: str, default, parse, doc: str, *, group: str, shown: str | None = None, secret: bool = False):
    """A field read from `env` (the default when unset or empty); `shown` is the default as the
    README prints it (a computed default has no literal)."""
    meta = {"env": env, "parse": parse, "doc": doc, "group": group, "shown": shown, "secret": secret}
    if callable(default) and not isinstance(default, type):
        return field(default_factory=default, metadata=meta, repr=not secret)
    return field(default=default, metadata=meta, repr=not secret)


def _int_or(default: int, minimum: int | None = None):
    def parse(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            return default  # a typo keeps the documented default rather than stopping a worker
        return max(minimum, n) if minimum is not None else n
    return parse


def _float_or(default: float):
    def parse(v: str) -> float:
        try:
            return float(v)
        except ValueError:
            return default
    return parse


@dataclass(frozen=True)
class Settings:
    # ---- the home and the project
    home: Path = _var("PCVE_HOME", default_home, _path, "The pipeline home (`--home` overrides it)",
                      group="home", shown="the checkout's `demo/` (a wheel: `./demo`)")
    config_dir: Path = _var("PCVE_CONFIG_DIR", lambda: project_dir("config"), _path,
                            "The configuration folder (offices.yml, forms.yml, indicators.yml, territories.csv)",
                            group="home", shown="the project's `config/`")
    dbt_project_dir: Path = _var("PCVE_DBT_PROJECT_DIR", lambda: project_dir("dbt_project"), _path,
                                 "The dbt project", group="home", shown="the project's `dbt_project/`")
    debug: bool = _var("PCVE_DEBUG", False, _set, "Any value: debug logging and full tracebacks from `pcve`",
                       group="home")
    # ---- the warehouse
    warehouse: str = _var("PCVE_WAREHOUSE", "", _text,
                          "Empty: the home's DuckDB file; `postgres://user:password@host:port/db`: that database",
                          group="warehouse")
    warehouse_password: str = _var("PCVE_WAREHOUSE_PASSWORD", "", _secret,
                                   "The PostgreSQL password when the URL has none", secret=True, group="warehouse")
    dbt_threads: str = _var("PCVE_DBT_THREADS", "4", _text, "dbt threads on PostgreSQL (DuckDB: 1)", group="warehouse")
    dbt_log_level_file: str = _var("PCVE_DBT_LOG_LEVEL_FILE", "info", _text, "dbt's log level for its log file",
                                   group="warehouse")
    dbt_prepare: bool = _var("PCVE_DBT_PREPARE", True, _flag,
                             "`pcve run`: a second process imports dbt and parses the project while the intake runs",
                             group="warehouse")
    duckdb_memory_limit: str = _var("PCVE_DUCKDB_MEMORY_LIMIT", "384MB", _text,
                                    "DuckDB's memory limit in dbt (also read by dbt_project/profiles.yml), the extracts' reads and the Parquet copies",
                                    group="warehouse")
    # ---- intake
    parse_workers: int | None = _var("PCVE_PARSE_WORKERS", None, int, "Parser processes (default: by CPUs)",
                                     group="intake", shown="by usable CPUs")
    data_docs: str = _var("PCVE_DATA_DOCS", "failed", lambda v: v.strip().lower(),
                          "GX Data Docs pages for `failed` validations, `all` or `off`", group="intake")
    privacy_retention_days: int = _var("PCVE_PRIVACY_RETENTION_DAYS", 90, int,
                                       "Days a privacy-quarantined file is kept (`pcve purge`)", group="intake")
    intake_chunk_files: int = _var("PCVE_INTAKE_CHUNK_FILES", 200, _int_or(200, 1),
                                   "Files per staging task (Airflow)", group="intake")
    intake_max_chunks: int = _var("PCVE_INTAKE_MAX_CHUNKS", 64, _int_or(64, 1),
                                  "Staging tasks per intake run at most", group="intake")
    intake_schedule: str = _var("PCVE_INTAKE_SCHEDULE", "0 6 * * *", _text,
                                "Cron of the daily intake (Asia/Almaty); `none`: triggered from outside",
                                group="intake")
    # ---- office sources (PCVE_SOURCE_<OFFICE> and PCVE_SOURCE_<OFFICE>_CONN_ID: see source_location)
    source_timeout: float = _var("PCVE_SOURCE_TIMEOUT", 20.0, float, "Seconds to connect to a remote source",
                                 group="sources", shown="20")
    sftp_key_file: str | None = _var("PCVE_SFTP_KEY_FILE", None, _opt, "SFTP private key file", group="sources")
    sftp_password: str | None = _var("PCVE_SFTP_PASSWORD", None, _opt, "SFTP password or the key's passphrase",
                                     secret=True, group="sources")
    sftp_known_hosts: str | None = _var("PCVE_SFTP_KNOWN_HOSTS", None, _opt,
                                        "OpenSSH known_hosts file with the servers' keys", group="sources")
    s3_endpoint_url: str | None = _var("PCVE_S3_ENDPOINT_URL", None, _opt, "An S3-compatible server",
                                       group="sources")
    # ---- extracts
    render_workers: int = _var("PCVE_RENDER_WORKERS", 0, _int_or(0), "Extract render processes (0: by CPUs and memory)",
                               group="exports")
    memory_budget_mb: int = _var("PCVE_MEMORY_BUDGET_MB", 1024, _int_or(1024),
                                 "Memory the extract renderers may use together", group="exports")
    docs_url: str = _var("PCVE_DOCS_URL", "", _text, "Where docs/ is served (http/https): the reports link to it",
                         group="exports")
    ministry_location: str | None = _var("PCVE_MINISTRY_LOCATION", None, _opt,
                                         "Where extracts are delivered (folder, sftp://, s3://); unset: none",
                                         group="exports")
    # ---- Airflow
    task_retries: int = _var("PCVE_TASK_RETRIES", 3, int, "Retries of a task that failed transiently", group="airflow")
    task_retry_delay: float = _var("PCVE_TASK_RETRY_DELAY", 60.0, _float_or(60.0),
                                   "Seconds before a task's first retry (doubling, up to 30 min)", group="airflow",
                                   shown="60")
    timeout_scale: float = _var("PCVE_TIMEOUT_SCALE", 1.0, _float_or(1.0),
                                "Factor on every task's execution_timeout", group="airflow", shown="1")
    deadlines: bool = _var("PCVE_DEADLINES", True, lambda v: v.strip().lower() != "off",
                           "`off`: no DAG deadline alerts (`airflow dags test`)", group="airflow", shown="on")
    airflow_port: int = _var("PCVE_AIRFLOW_PORT", 8080, int, "Airflow api-server port (`pcve airflow`)",
                             group="airflow")
    airflow_all_admins: bool = _var("PCVE_AIRFLOW_ALL_ADMINS", True, _flag,
                                    "`false`: the local Airflow asks for the admin password", group="airflow",
                                    shown="true")
    airflow_parallelism: str = _var("PCVE_AIRFLOW_PARALLELISM", "4", _text, "Airflow [core] parallelism",
                                    group="airflow")
    airflow_stop_grace: float = _var("PCVE_AIRFLOW_STOP_GRACE", 20.0, float,
                                     "Seconds between SIGTERM and SIGKILL on `make airflow-stop`", group="airflow",
                                     shown="20")
    airflow_tag: str | None = _var("PCVE_AIRFLOW_TAG", None, _opt,
                                   "Set by the runner on the processes it starts (finds them again)", group="airflow")
    worker_name: str | None = _var("PCVE_WORKER_NAME", None, _opt, "A Celery worker's name (scale profile)",
                                   group="airflow", shown="the host name")
    redis_port: int = _var("PCVE_REDIS_PORT", 6379, int, "Redis port (scale profile)", group="airflow")
    worker_log_port: int = _var("PCVE_WORKER_LOG_PORT", 8793, int, "Worker log server port", group="airflow")
    trigger_log_port: int = _var("PCVE_TRIGGER_LOG_PORT", 8795, int, "Triggerer log server port", group="airflow")
    scale_postgres: str | None = _var("PCVE_SCALE_POSTGRES", None, _opt,
                                      "The scale profile's PostgreSQL server", group="airflow")
    scale_metadata_db: str = _var("PCVE_SCALE_METADATA_DB", "pcve_airflow", _text,
                                  "The scale profile's Airflow metadata database", group="airflow")
    scale_warehouse_db: str = _var("PCVE_SCALE_WAREHOUSE_DB", "pcve_scale", _text,
                                   "The scale profile's warehouse database", group="airflow")
    # ---- alerts
    alert_email: str = _var("PCVE_ALERT_EMAIL", "", _text, "Alert recipients, comma-separated", group="alerts")
    smtp_conn_id: str = _var("PCVE_SMTP_CONN_ID", "smtp_default", _text, "Airflow SMTP connection of alert e-mail",
                             group="alerts")
    alert_from: str | None = _var("PCVE_ALERT_FROM", None, _opt, "Alert sender (else the connection's)",
                                  group="alerts")
    alert_webhook_conn: str = _var("PCVE_ALERT_WEBHOOK_CONN", "", _text, "Airflow http connection alerts POST to",
                                   group="alerts")
    alerts: str = _var("PCVE_ALERTS", "", lambda v: v.strip().lower(), "`log`: alerts in the task log only",
                       group="alerts")
    # ---- the office portal
    portal_host: str = _var("PCVE_PORTAL_HOST", "127.0.0.1", _text, "Address `pcve serve` listens on", group="portal")
    portal_port: int = _var("PCVE_PORTAL_PORT", 8081, int, "Port of `pcve serve`", group="portal")
    portal_secret: str | None = _var("PCVE_PORTAL_SECRET", None, _opt,
                                     "Cookie-signing key (else one kept in HOME/portal/secret.key)", secret=True,
                                     group="portal")
    portal_trusted_proxies: str = _var("PCVE_PORTAL_TRUSTED_PROXIES", "127.0.0.1", _text,
                                       "Proxies whose X-Forwarded-* headers count", group="portal")
    portal_airflow_url: str = _var("PCVE_PORTAL_AIRFLOW_URL", "", _text, "Airflow API the portal triggers intake on",
                                   group="portal")
    portal_airflow_user: str = _var("PCVE_PORTAL_AIRFLOW_USER", "", _text, "Its user", group="portal")
    portal_airflow_password: str = _var("PCVE_PORTAL_AIRFLOW_PASSWORD", "", _secret, "Its password",
                                        secret=True, group="portal")
    portal_max_failed: int = _var("PCVE_PORTAL_MAX_FAILED", 5, _int_or(5, 1), "Failed logins before a lockout",
                                  group="portal")
    portal_lockout_seconds: int = _var("PCVE_PORTAL_LOCKOUT_SECONDS", 900, _int_or(900, 1), "Lockout length",
                                       group="portal")
    # ---- fault injection (tests)
    fault_point: str | None = _var("PCVE_FAULT_POINT", None, _opt, "`<checkpoint>:<n>`: SIGKILL there (tests)",
                                   group="tests")
    fault_trace: str | None = _var("PCVE_FAULT_TRACE", None, _opt, "File that records every checkpoint reached",
                                   group="tests")
    # PCVE_SOURCE_<OFFICE> / PCVE_SOURCE_<OFFICE>_CONN_ID, keyed by the lower-case office code
    source_locations: dict = field(default_factory=dict, repr=False)
    source_conn_ids: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ=None) -> Settings:
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if name is None:
                continue
            raw = env.get(name)
            if raw is not None and raw != "":
                values[f.name] = f.metadata["parse"](raw)
        named = {f.metadata["env"] for f in fields(cls) if "env" in f.metadata}
        locations, conn_ids = {}, {}
        for k, v in env.items():
            if not k.startswith(SOURCE_PREFIX) or k in named or not v:
                continue
            rest = k[len(SOURCE_PREFIX):]
            if rest.endswith("_CONN_ID"):
                conn_ids[rest[: -len("_CONN_ID")].lower()] = v
            else:
                locations[rest.lower()] = v
        return cls(**values, source_locations=locations, source_conn_ids=conn_ids)

    def source_location(self, office: str) -> str | None:
        """PCVE_SOURCE_<OFFICE>: where this office's files are read, overriding offices.yml."""
        return self.source_locations.get(office.lower())

    def source_conn_id(self, office: str) -> str:
        """PCVE_SOURCE_<OFFICE>_CONN_ID: the Airflow connection of its remote source."""
        return self.source_conn_ids.get(office.lower()) or f"pcve_source_{office}"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


_cache: tuple[tuple, Settings] | None = None


def settings() -> Settings:
    """The settings of this process's environment, read again only when a PCVE_* variable changed."""
    global _cache
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PCVE_")))
    if _cache is None or _cache[0] != key:
        _cache = (key, Settings.from_env())
    return _cache[1]


GROUPS = {"home": "Home and project", "warehouse": "Warehouse", "intake": "Intake", "sources": "Office sources",
          "exports": "Extracts", "airflow": "Airflow", "alerts": "Alerts", "portal": "Office portal",
          "tests": "Tests"}


def _shown_default(f) -> str:
    if f.metadata.get("shown"):
        return f.metadata["shown"]
    if f.default is MISSING or f.default is None or f.default == "":
        return "–"
    if isinstance(f.default, bool):
        return "on" if f.default else "off"
    return f"`{f.default}`"


def markdown_table() -> str:
    """The README's table of every variable, generated from the fields (never edited by hand)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for group, title in GROUPS.items():
        rows.append(f"| **{title}** | | |")
        for f in fields(Settings):
            if f.metadata.get("group") == group:
                rows.append(f"| `{f.metadata['env']}` | {_shown_default(f)} | {f.metadata['doc']} |")
    rows.append("| `PCVE_SOURCE_<OFFICE>` | offices.yml | Where an office's files are read (a folder, sftp://, s3://) |")
    rows.append("| `PCVE_SOURCE_<OFFICE>_CONN_ID` | `pcve_source_<office>` | The Airflow connection of that source |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
