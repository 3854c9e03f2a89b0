"""No credential in the repository (issue 8).

Scans every file git tracks or would add (tracked + untracked-not-ignored) for private keys,
cloud and chat tokens, passwords inside URLs and password/secret literals. Test fixtures
(tests/) may hold obviously fake values in URLs and literals, .env.example may name variables
with empty values; anything else must come from the environment or a secrets backend. An
allowed exception is listed in ALLOWED with its reason, so a new one is a conscious decision.
(docker-compose.yml: non-root services and only the UI port published are pinned in
tests/test_compose.py.)
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

# Kept apart so this file does not match itself.
_BEGIN, _KEY = "-----BEGIN", "PRIVATE KEY-----"
ANYWHERE = {
    "private key": re.compile(re.escape(_BEGIN) + r" ([A-Z0-9]+ )*" + re.escape(_KEY)),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}"),
    "GitHub token": re.compile(r"\b(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{30,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}
# Outside tests/ and .env.example:
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"<>${}]+:([^@\s'\"/]+)@")
LITERALS = [
    # password = "x", "password": "x", secret_key='x' (code, JSON)
    re.compile(r"(?i)\b\w*(password|passwd|secret|_token|api_?key|fernet_?key)\w*['\"]?\s*[:=]\s*(['\"])([^'\"\n]+)\2"),
    # PASSWORD=x, export SECRET_KEY=x (shell, env files)
    re.compile(r"(?im)^\s*(?:export\s+)?\w*(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|FERNET_?KEY)\w*=([^\s'\"$`]\S*)\s*$"),
    # password: x (YAML)
    re.compile(r"(?im)^\s*[\w.-]*(password|passwd|secret|_token|api_?key)[\w.-]*\s*:\s*([^\s'\"${#|>][^\s#]*)\s*$"),
]
PLACEHOLDER = re.compile(r"(?i)^(<[^>]*>|\$\{?[\w:?\- ]*\}?|\{[^}]*\}|\*+|x+|\.\.\.|password|pass|passwd|secret|user|"
                         r"token|changeme|example|none|null|true|false|os\.environ.*|env\(.*\)|\w+\.\w+|"
                         r"(?-i:[A-Z][A-Z0-9_]*)|/\S*)$")  # ... an environment variable's name, a file path
ALLOWED = {
    # path: (pattern of the allowed text, why)
    "scripts/start-postgres.sh": (re.compile(r"PASSWORD=pcve|://pcve:pcve@"),
                                  "throwaway PostgreSQL cluster for tests, listening on 127.0.0.1 only"),
}
TEXT_SUFFIXES = {".py", ".sh", ".yml", ".yaml", ".toml", ".json", ".md", ".cfg", ".ini", ".txt", ".sql", ".env",
                 ".example", ".csv", ".html", "", ".lock", ".j2", ".jinja"}


def _repository_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                         capture_output=True, check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p and (REPO / p).is_file()]


def _findings(path: Path, text: str) -> list[str]:
    rel = path.relative_to(REPO).as_posix()
    found = [f"{rel}: {what}" for what, rx in ANYWHERE.items() if rx.search(text)]
    if rel.startswith("tests/") or rel == ".env.example":
        return found
    allowed = ALLOWED.get(rel, (None, ""))[0]
    for m in URL_PASSWORD.finditer(text):
        if not PLACEHOLDER.match(m[1]) and not (allowed and allowed.search(m[0])):
            found.append(f"{rel}: password in a URL ({m[0][:60]})")
    for rx in LITERALS:
        for m in rx.finditer(text):
            value = m.groups()[-1].strip()
            if PLACEHOLDER.match(value) or (allowed and allowed.search(m[0])):
                continue
            found.append(f"{rel}: literal credential ({m[0].strip()[:60]})")
    return found


def test_no_credentials_in_the_repository():
    files = _repository_files()
    assert len(files) > 100
    findings = []
    for path in files:
        if path.suffix not in TEXT_SUFFIXES and not path.name.startswith((".env", "Dockerfile", "Makefile")):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        findings += _findings(path, text)
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("text, found", [
    (_BEGIN + " RSA " + _KEY + "\nMIIEow...", True),
    ("key = 'AKIA" + "ABCDEFGHIJKLMNOP'", True),
    ("url = 'sftp://pcve:" + "hunter2@sftp.gov.kz/in'", True),
    ("password = 'hunter" + "2'", True),
    ("POSTGRES_PASSWORD=hunter" + "2", True),
    ("  password: hunter" + "2", True),
    ("secret_key: 'hunter" + "2'", True),
    ('PASSWORD_ENV = "PCVE_WAREHOUSE_PASSWORD"', False),
    ("token: '2025-01'", False),
    ("PCVE_WAREHOUSE: ${PCVE_WAREHOUSE:-postgresql://${POSTGRES_USER:-airflow}@postgres:5432/pcve}", False),
    ("url: postgres://user:password@host:5432/db", False),
    ("conn = f'postgres://{user}:{password}@{host}'", False),
    ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgresql://${U}:${POSTGRES_PASSWORD:?set it}@postgres/db", False),
    ("password = os.environ.get('AIRFLOW_ADMIN_PASSWORD', '')", False),
    ('kw["password"] = t.password', False),
])
def test_the_scanner_finds_what_it_should(text, found):
    assert bool(_findings(REPO / "pcve" / "x.py", text)) is found


def test_connections_and_source_credentials_come_from_the_environment():
    """Airflow connections, office sources (SFTP/object store) and the ministry's delivery target are
    configured by environment variables, never written into the compose file or the configuration."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        for key, value in env.items():
            if re.match(r"AIRFLOW_CONN_|PCVE_SOURCE_|PCVE_MINISTRY_LOCATION|AWS_|AIRFLOW__SECRETS__", key):
                assert str(value).startswith("${"), f"{name}.{key} is written in the compose file"
    offices = yaml.safe_load((REPO / "config" / "offices.yml").read_text(encoding="utf-8"))["offices"]
    for code, office in offices.items():
        assert not URL_PASSWORD.search(str(office.get("source", ""))), f"{code}: credentials in its source"
    for dag in (REPO / "dags").glob("*.py"):
        text = dag.read_text(encoding="utf-8")
        assert not URL_PASSWORD.search(text) and "Connection(" not in text, dag.name
