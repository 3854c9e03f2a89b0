"""Alerts: the webhook notifier (Airflow has none without an extra provider) and the overdue
digests, which change only when an office's set of overdue periods changes.

The digest state lives in the home (`state/overdue_digests.json`): what was last sent per office.
It is written only after a send succeeded, so a failed send is sent again by the next try.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
from pathlib import Path

from airflow.sdk import BaseHook, BaseNotifier

from pcve.core.errors import PermanentError, TransientError
from pcve.core.home import Home
from pcve.core.settings import settings

_STATE = "overdue_digests.json"

# Channels, from the environment (credentials stay in Airflow connections):
ALERT_EMAIL_ENV = "PCVE_ALERT_EMAIL"  # comma-separated recipients: SmtpNotifier over PCVE_SMTP_CONN_ID
SMTP_CONN_ENV = "PCVE_SMTP_CONN_ID"  # default smtp_default
ALERT_FROM_ENV = "PCVE_ALERT_FROM"  # sender, else the connection's from_email
WEBHOOK_CONN_ENV = "PCVE_ALERT_WEBHOOK_CONN"  # an http(s) connection: JSON {subject, text} is POSTed to it
LOG_ONLY_ENV = "PCVE_ALERTS"  # "log": no channel needed (a developer's machine)

log = logging.getLogger("pcve.alerts")


class NoAlertChannel(PermanentError):
    """Nobody can be told: no alert channel is configured."""


def notifiers(subject: str, body: str) -> list:
    """The configured Airflow notifiers, each carrying this message."""
    out: list = []
    recipients = [r.strip() for r in settings().alert_email.split(",") if r.strip()]
    if recipients:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        out.append(SmtpNotifier(to=recipients, from_email=settings().alert_from,
                                smtp_conn_id=settings().smtp_conn_id, subject=subject,
                                html_content=f"<pre>{html.escape(body)}</pre>"))
    if conn_id := settings().alert_webhook_conn:
        out.append(WebhookNotifier(conn_id=conn_id, subject=subject, text=body))
    return out


def send_alert(context, subject: str, body: str) -> int:
    """Send one message through every configured channel; a failed send raises (the task fails,
    and its retries send again). Returns how many channels took it. The message is always logged."""
    log.warning("PCVE ALERT: %s\n%s", subject, body)
    channels = notifiers(subject, body)
    if not channels:
        if settings().alerts == "log":
            return 0
        raise NoAlertChannel(
            f"no alert channel is configured, so nobody was told: set {ALERT_EMAIL_ENV} (e-mail through the "
            f"Airflow connection {settings().smtp_conn_id}) or {WEBHOOK_CONN_ENV} (an http "
            f"connection id), or {LOG_ONLY_ENV}=log to accept alerts in the task log only")
    for n in channels:
        n.notify(context or {})  # not n(context): that would render the body as a Jinja template
    return len(channels)


def deadline_missed(context=None, dag_id: str = "?", window: str = "?", **_) -> None:
    """SyncCallback of the DAGs' DeadlineAlert: the run has not finished in its window."""
    run = (context or {}).get("dag_run")
    send_alert(context, f"[pcve] {dag_id} has not finished within {window}",
               f"DAG {dag_id}, run {getattr(run, 'run_id', '?')}: still not finished {window} after it was "
               "queued. A task may hang (each has an execution_timeout) or wait for the writer pool.")
MAX_PERIODS_LISTED = 24


class WebhookUnreachable(TransientError):
    pass


class WebhookNotifier(BaseNotifier):
    """POSTs {"subject", "text"} as JSON to the URL of an Airflow connection (type http or https:
    host, port, schema = the path; extra {"headers": {...}} for a token). Raises on any answer
    other than 2xx, so the task fails and retries."""

    template_fields = ("subject", "text")

    def __init__(self, conn_id: str, subject: str, text: str, timeout: float = 10.0):
        super().__init__()
        self.conn_id, self.subject, self.text, self.timeout = conn_id, subject, text, timeout

    def url(self) -> tuple[str, dict]:
        c = BaseHook.get_connection(self.conn_id)
        extra = c.extra_dejson or {}
        scheme = extra.get("scheme") or ("https" if c.conn_type == "https" else "http")
        host = c.host or ""
        if "://" in host:  # a full URL in the host field
            base = host.rstrip("/")
        else:
            base = f"{scheme}://{host}" + (f":{c.port}" if c.port else "")
        path = (c.schema or "").strip("/")
        return (f"{base}/{path}" if path else base), dict(extra.get("headers") or {})

    def notify(self, context) -> None:
        import urllib.error
        import urllib.request

        url, headers = self.url()
        data = json.dumps({"subject": self.subject, "text": self.text}, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8", **headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 (a configured URL)
                if not 200 <= r.status < 300:
                    raise WebhookUnreachable(f"webhook {self.conn_id} answered {r.status}")
        except urllib.error.URLError as e:
            raise WebhookUnreachable(f"webhook {self.conn_id} not reached: {e}") from None


# ---------------------------------------------------------------- overdue digests
def _fingerprint(items: list[dict]) -> str:
    keys = sorted(f"{i['office']}|{i['period']}" for i in items)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def overdue_digests(home: str | Path, overdue: list[dict], as_of: str) -> list[dict]:
    """One digest per office whose set of overdue periods differs from the last one sent
    (an office that caught up gets none; its state is cleared by `mark_sent`)."""
    sent = _load(home)
    out = []
    for office in sorted({i["office"] for i in overdue} | set(sent)):
        mine = sorted((i for i in overdue if i["office"] == office), key=lambda i: i["period"])
        fp = _fingerprint(mine) if mine else ""
        if sent.get(office, {}).get("fingerprint", "") == fp:
            continue
        if not mine:
            out.append({"office": office, "fingerprint": "", "subject": None, "body": None, "periods": []})
            continue
        shown = [f"{i['period']} (due {i['due']}, {i['days_overdue']} days late)" for i in mine[-MAX_PERIODS_LISTED:]]
        more = len(mine) - len(shown)
        before = set(sent.get(office, {}).get("periods", []))
        new = [i["period"] for i in mine if i["period"] not in before]
        body = "\n".join([
            f"Office {office}: {len(mine)} period(s) past their due day and not received, as of {as_of}.",
            *(f"- {line}" for line in shown),
            *([f"… and {more} earlier period(s)"] if more else []),
            f"Newly overdue since the last digest: {', '.join(new) if new else 'none (some were received)'}.",
            "This digest is sent again only when the set of overdue periods changes.",
        ])
        out.append({"office": office, "fingerprint": fp, "periods": [i["period"] for i in mine],
                    "subject": f"[pcve] {office}: {len(mine)} overdue submission(s)", "body": body})
    return out


def mark_sent(home: str | Path, digest: dict) -> None:
    """Record a digest as sent (after the send succeeded)."""
    state = _load(home)
    if digest["fingerprint"]:
        state[digest["office"]] = {"fingerprint": digest["fingerprint"], "periods": digest["periods"]}
    else:
        state.pop(digest["office"], None)
    path = _path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _path(home) -> Path:

    return Home.at(home).state / _STATE


def _load(home) -> dict:
    try:
        return json.loads(_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
