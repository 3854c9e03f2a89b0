"""Orchestration an on-call engineer can trust, through real Airflow (`airflow dags test`, SQLite
metadata DB) and a real SMTP server on loopback (aiosmtpd): a file that fails to stage holds back
its office's later files (no inverted order), one failure digest per failed run, overdue digests
as of the logical date that change only when the overdue set changes, and no identifier in any
Airflow table or log. The 2,500-file run proves the staging task count is bounded.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import ledger as L
from pcve.app.airflow_runner import AirflowRunError, dags_test
from pcve.core.home import Home

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

IIN, PHONE = "870412300123", "+77011234567"
# every way the two identifiers could leak: as written, digits only, the phone's usual spellings
LEAKS = (IIN, PHONE, "77011234567", "7011234567", "+7 701")
FAILING = f"almaty_2017-11 {IIN}.xlsx"  # the original of a period that has a later correction
CORRECTION = "almaty_2017-11_түзетілген.xlsx"


def _free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port from {start}")


class _Inbox:
    """aiosmtpd handler: every message the SMTP server accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port(int(os.getenv("PCVE_TEST_SMTP_PORT", "28025")))
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "pcve@localhost", "retry_limit": 0,
                      "timeout": 10}}
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
            mp.setenv("PCVE_ALERT_EMAIL", "oncall@example.org")
            yield inbox
    finally:
        controller.stop()


def _body(msg) -> str:
    part = msg.get_body(preferencelist=("html", "plain"))
    return part.get_content() if part else ""


def _rename(path: Path, new_name: str) -> Path:
    st = path.stat()
    target = path.with_name(new_name)
    path.rename(target)
    os.utime(target, (st.st_atime, st.st_mtime))
    return target


def _block_staging(home: Path, office: str, path: Path) -> Path:
    """A real I/O failure for exactly this file while it is staged: a directory where its staged
    JSON is written (what a full or broken disk does to one write)."""
    from pcve.app import intake

    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    # the staged JSON's own path (its temporary file has a unique name, issue 13): renaming onto it fails
    blocker = intake._staged_path(Home.at(home), office, sha, intake._record_name(path.name))
    blocker.mkdir(parents=True)
    return blocker


def _af(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "airflow" / "airflow.db")


def _decided(home: Path) -> dict[str, L.Submission]:
    state = L.LedgerState.load(Home.at(home).ledger)
    return {s.file_name: s for s in state.submissions.values() if s.status != "received"}


@pytest.fixture(scope="module")
def intake_home(tmp_path_factory, smtp):
    """The demo workbooks, two names carrying an IIN or a phone, office_intake in chunks of 5
    files; the almaty 2017-11 original cannot be staged in the first run."""
    from pcve.demo import write_demo

    home = tmp_path_factory.mktemp("orch") / "home"
    h = Home.at(home).ensure()
    write_demo(h.inbox)
    failing = _rename(h.inbox / "almaty" / "almaty_2017-11.xlsx", FAILING)
    _rename(h.inbox / "almaty" / "almaty_2017-03.xlsx", f"almaty_2017-03 {PHONE}.xlsx")
    turkistan = sorted((h.inbox / "turkistan").glob("*.xlsx"))[0]
    _rename(turkistan, turkistan.stem + f" {IIN} {PHONE}.xlsx")
    blocker = _block_staging(home, "almaty", failing)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PCVE_INTAKE_CHUNK_FILES", "5")
        with pytest.raises(AirflowRunError) as failed:
            dags_test(home, "office_intake")
        first = {"error": str(failed.value), "decided": _decided(home), "mails": len(smtp.messages),
                 "output": failed.value.output}
        with _af(home) as con:
            first["tis"] = {(t, m): (label, state) for t, m, label, state in con.execute(
                "select task_id, map_index, rendered_map_index, state from task_instance "
                "where dag_id = 'office_intake'")}
            first["run_state"] = con.execute("select state from dag_run where dag_id = 'office_intake'").fetchone()[0]
        blocker.rmdir()  # the disk is fixed: the next run stages the held-back files, in order
        second = dags_test(home, "office_intake")
    return {"home": home, "first": first, "mails_after_second": len(smtp.messages), "smtp": smtp,
            "output": first["output"] + second.stdout + second.stderr}


def test_a_file_that_fails_to_stage_holds_back_its_offices_later_files(intake_home):
    first = intake_home["first"]
    assert first["run_state"] == "failed"
    # almaty's chunks of 5 in order of arrival: 2017-01..2017-10 staged; the chunk from 2017-11 on failed
    failed = {k: v for k, v in first["tis"].items() if v[1] == "failed"}
    assert set(failed) == {("stage", 2), ("report", -1)}, first["tis"]
    assert failed[("stage", 2)][0] == "almaty 3/6 (5 files)"
    assert first["tis"][("load", -1)][1] == "success"
    almaty = sorted(s.received_at for s in first["decided"].values() if s.office == "almaty")
    assert len(almaty) == 10 and max(almaty) < "2017-12-07"  # nothing from the failed file on
    assert sum(s.office == "turkistan" for s in first["decided"].values()) == 3  # another office: untouched
    assert "stage_2" in first["error"]


def test_held_back_files_load_in_order_in_the_next_run(intake_home):
    from pcve.app.status import status

    home = intake_home["home"]
    decided = _decided(home)
    masked = next(s for n, s in decided.items() if n.startswith("almaty_2017-11 "))
    correction = decided[CORRECTION]
    assert masked.seq < correction.seq  # the original stays the older submission
    assert status(home)["offices"]["almaty"]["periods"]["2017-11"]["current"] == correction.submission_id
    assert sum(s.office == "almaty" for s in decided.values()) == 26  # every file decided, none lost
    # submission ids follow the offices' order within a run: the second run's almaty before turkistan
    assert all(s.office == "almaty" for s in decided.values() if s.seq > 13)


def test_one_failure_digest_per_failed_run_through_smtp(intake_home):
    smtp = intake_home["smtp"]
    assert intake_home["first"]["mails"] == 1  # the failed run: one digest
    assert intake_home["mails_after_second"] == 1  # the run that succeeded: none
    msg = smtp.messages[0]
    assert msg["To"] == "oncall@example.org"
    assert "office_intake run failed" in msg["Subject"] and "stage_2" in msg["Subject"]
    body = _body(msg)
    assert "held back: almaty: 16 file(s), chunk 3/6 failed to stage" in body
    assert "next run" in body


def test_no_identifier_in_any_airflow_table_or_log(intake_home):
    home = intake_home["home"]
    found = []
    with _af(home) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        assert {"xcom", "task_instance", "rendered_task_instance_fields", "dag_run"} <= set(tables)
        scanned = 0
        for table in tables:
            cols = [r[1] for r in con.execute(f'pragma table_info("{table}")')]
            for row in con.execute(f'select * from "{table}"'):
                for col, value in zip(cols, row, strict=True):
                    if value is None or isinstance(value, int | float):
                        continue
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    scanned += 1
                    found += [(table, col, leak) for leak in LEAKS if leak in text]
    assert scanned > 500  # the run's XComs, rendered fields and labels were there to scan
    # task logs: `airflow dags test` writes them to its output (a scheduler, to files under logs/)
    logs = [intake_home["output"]] + [p.read_text(encoding="utf-8", errors="replace")
                                      for p in (home / "airflow" / "logs").rglob("*") if p.is_file()]
    assert "stage" in logs[0] and "almaty" in logs[0]
    found += [("log", "", leak) for text in logs for leak in LEAKS if leak in text]
    mails = "\n".join(_body(m) + str(m["Subject"]) for m in intake_home["smtp"].messages)
    found += [("mail", "", leak) for leak in LEAKS if leak in mails]
    assert found == []
    # and the masked names did reach Airflow: the scan looked where they would be
    with _af(home) as con:
        xcom = " ".join(str(v) for (v,) in con.execute("select value from xcom where task_id = 'discover'"))
    assert "[IIN]" in xcom and "[phone]" in xcom


def test_overdue_digest_as_of_the_logical_date_sent_only_when_the_set_changes(intake_home):
    """almaty 2017-07 (due 2017-08-10) arrived on 2017-08-13: overdue on the 12th, not on the 14th,
    although today's ledger holds it."""
    home, smtp = intake_home["home"], intake_home["smtp"]
    before = len(smtp.messages)
    dags_test(home, "submission_deadlines", logical_date="2017-08-12T03:00:00+00:00")
    new = smtp.messages[before:]
    assert len(new) == 1 and "almaty" in new[0]["Subject"]
    assert "2017-07 (due 2017-08-10, 2 days late)" in _body(new[0])
    received_by_then = {s.period for s in _decided(home).values()
                        if s.office == "almaty" and s.status == "accepted" and s.received_at[:10] <= "2017-08-12"}
    listed = {line.split()[1] for line in _body(new[0]).splitlines() if line.startswith("- ")}
    assert listed and not listed & received_by_then
    # the same overdue set the next day: no second digest
    dags_test(home, "submission_deadlines", logical_date="2017-08-12T05:00:00+00:00")
    assert len(smtp.messages) == before + 1
    # caught up: nothing to send, and the office's digest state is cleared
    dags_test(home, "submission_deadlines", logical_date="2017-08-14T03:00:00+00:00")
    assert len(smtp.messages) == before + 1
    state = json.loads((Home.at(home).state / "overdue_digests.json").read_text())
    assert "almaty" not in state


def test_a_failed_send_fails_the_task(intake_home, monkeypatch):
    home = intake_home["home"]
    dead = _free_port(int(os.getenv("PCVE_TEST_SMTP_PORT", "28025")) + 300)  # nobody listens there
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": dead,
         "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "pcve@localhost", "retry_limit": 0,
                   "timeout": 5}}))
    with pytest.raises(AirflowRunError):
        dags_test(home, "submission_deadlines", logical_date="2017-08-12T07:00:00+00:00")
    with _af(home) as con:
        states = dict(con.execute(
            "select task_id, state from task_instance where dag_id = 'submission_deadlines' "
            "and run_id = (select run_id from dag_run where dag_id = 'submission_deadlines' "
            "order by id desc limit 1)").fetchall())
    assert states["notify_overdue"] == "failed" and states["report"] == "failed"
    state = json.loads((Home.at(home).state / "overdue_digests.json").read_text())
    assert "almaty" not in state  # not recorded as sent: the next run sends it


def test_the_webhook_channel_posts_json_and_a_refused_post_raises(monkeypatch):
    """A real HTTP server on loopback takes the POST; one answering 500 makes the send raise."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from pcve.app.notify import send_alert
    from pcve.core.errors import TransientError

    got, status = [], [204]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            got.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port(int(os.getenv("PCVE_TEST_SMTP_PORT", "28025")) + 100)),
                                 Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("PCVE_ALERT_EMAIL", raising=False)
        monkeypatch.setenv("AIRFLOW_CONN_PCVE_HOOK", f"http://127.0.0.1:{server.server_port}/alerts/pcve")
        monkeypatch.setenv("PCVE_ALERT_WEBHOOK_CONN", "pcve_hook")
        assert send_alert({}, "[pcve] subject", "Алматы: 2017-07 overdue") == 1
        assert got == [("/alerts/pcve", {"subject": "[pcve] subject", "text": "Алматы: 2017-07 overdue"})]
        status[0] = 500
        with pytest.raises(TransientError):
            send_alert({}, "[pcve] again", "body")
    finally:
        server.shutdown()
        server.server_close()


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(0, 5000), min_size=1, max_size=30), size=st.integers(1, 400),
       cap=st.integers(1, 100))
def test_chunks_are_bounded_and_keep_every_file_once_in_order(counts, size, cap):
    from pcve.app.pipeline import plan_chunks

    discovered = [{"office": f"o{i}", "files": [{"file_id": f"o{i}-{n}"} for n in range(c)]}
                  for i, c in enumerate(counts)]
    plan = plan_chunks(discovered, chunk_files=size, max_chunks=cap)
    assert len(plan) <= max(cap, sum(1 for c in counts if c))  # the mapped task count, whatever the backlog
    for d in discovered:
        mine = [c for c in plan if c["office"] == d["office"]]
        assert [c["chunk"] for c in mine] == list(range(len(mine)))
        assert [r for c in mine for r in c["refs"]] == d["files"]  # each file once, in discovery order
        assert all(c["label"] == f"{d['office']} {c['chunk'] + 1}/{len(mine)} ({len(c['refs'])} files)"
                   for c in mine)


# ---------------------------------------------------------------- maintenance from the UI
def test_maintenance_voids_a_period_with_a_reason_and_emits_the_office_asset(intake_home):
    from pcve.app.status import status

    home = intake_home["home"]
    current = status(home)["offices"]["almaty"]["periods"]["2017-11"]["current"]
    dags_test(home, "pcve_maintenance", conf={"action": "void", "office": "almaty", "periods": ["2017-11"],
                                              "reason": "sent by mistake"})
    state = L.LedgerState.load(Home.at(home).ledger)
    assert state.submissions[current].status == "voided"
    voided = [e for e in state.events if e.get("event") == "voided" and e["submission_id"] == current]
    assert voided and voided[0]["reason"] == "sent by mistake"
    # the period falls back to the original, which the correction had replaced
    fallback = status(home)["offices"]["almaty"]["periods"]["2017-11"]["current"]
    assert fallback and fallback != current and state.submissions[fallback].seq < state.submissions[current].seq
    with _af(home) as con:  # the asset warehouse_build is scheduled on got its event
        events = con.execute("select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id "
                             "where e.source_dag_id = 'pcve_maintenance'").fetchall()
    assert [(uri, json.loads(extra)) for uri, extra in events] == [("pcve://office/almaty", {"maintenance": "void"})]


def test_maintenance_requeues_the_latest_quarantined_file_of_a_period(intake_home):
    home = intake_home["home"]
    state = L.LedgerState.load(Home.at(home).ledger)
    draft = next(s for s in state.submissions.values() if s.office == "almaty" and s.period == "2018-05"
                 and s.status == "rejected")
    dags_test(home, "pcve_maintenance", conf={"action": "requeue", "office": "almaty", "periods": ["2018-05"]})
    state = L.LedgerState.load(Home.at(home).ledger)
    assert [e["submission_id"] for e in state.events if e.get("event") == "requeued"] == [draft.submission_id]
    # processed again as a new submission of the same bytes (the pipeline is unchanged: rejected again)
    assert state.submissions[draft.submission_id].status == "requeued"
    again = [s for s in state.submissions.values() if s.sha256 == draft.sha256 and s.seq > draft.seq]
    assert [s.status for s in again] == ["rejected"]
    assert (Home.at(home).root / again[0].quarantine_path).is_file()


def test_maintenance_refuses_a_void_without_reason_at_once(intake_home, monkeypatch):
    home = intake_home["home"]
    monkeypatch.setenv("PCVE_TASK_RETRIES", "2")  # retries allowed: the retry policy must refuse them
    with pytest.raises(AirflowRunError):
        dags_test(home, "pcve_maintenance", conf={"action": "void", "office": "almaty", "periods": ["2017-10"]})
    with _af(home) as con:
        tries = con.execute("select try_number, state from task_instance where dag_id = 'pcve_maintenance' "
                            "and task_id = 'maintain' order by start_date desc limit 1").fetchone()
    assert tries == (1, "failed")  # a ConfigError is permanent: no retry
    assert _decided(home)  # and nothing was voided
    assert all(s.status != "voided" for s in _decided(home).values() if s.period == "2017-10")


def test_ministry_extract_refuses_a_month_when_triggered(intake_home):
    with pytest.raises(AirflowRunError) as e:
        dags_test(intake_home["home"], "ministry_extract", conf={"periods": ["2017-03"]})
    assert "2017-03" in e.value.output


def test_extract_periods_expand_years_and_refuse_months():
    from pcve.app.pipeline import extract_periods
    from pcve.core.errors import ConfigError, PermanentError

    assert extract_periods(["2017", "2018-Q2", "2017Q1"]) == ["2017", "2017-Q1", "2017-Q2", "2017-Q3",
                                                               "2017-Q4", "2018-Q2"]
    for bad in ("2017-03", "201703", "2017-13", "last year"):
        with pytest.raises(ConfigError) as e:
            extract_periods([bad])
        assert isinstance(e.value, PermanentError) and repr(bad) in str(e.value)


# ---------------------------------------------------------------- the scheduler-driven path
def _api(port: int, method: str, path: str, body: dict | None = None) -> dict:
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def _create_backfill(port: int, body: dict, tries: int = 20) -> dict:
    """POST a backfill as an operator would on the standalone: its SQLite metadata database
    answers 503 "Database is locked" while the scheduler writes (seen on the 2-core CI machine,
    with the unpaused DAG's first run starting): that refusal is retried, any other error is not."""
    import urllib.error

    for attempt in range(tries):
        try:
            return _api(port, "POST", "/api/v2/backfills", body)
        except urllib.error.HTTPError as e:
            if e.code != 503 or attempt == tries - 1:
                raise
            time.sleep(3)
    raise AssertionError("unreachable")


def test_the_scheduler_runs_the_pipeline_from_a_rest_trigger(tmp_path, smtp, monkeypatch):
    """`airflow standalone` (scheduler, DAG processor, triggerer, API server): office_intake is
    triggered through the REST API with one file that cannot be staged; its run fails with one
    digest, yet what loaded fires the office asset, and warehouse_build then ministry_extract run
    on their assets and succeed."""
    from pcve.app.airflow_runner import start_standalone, stop_standalone, wait_until_healthy
    from pcve.demo import write_demo

    home = tmp_path / "home"
    h = Home.at(home).ensure()
    write_demo(h.inbox)
    blocker = _block_staging(home, "almaty", h.inbox / "almaty" / "almaty_2018-12.xlsx")  # the last almaty file
    monkeypatch.setenv("PCVE_TASK_RETRIES", "0")
    monkeypatch.setenv("PCVE_INTAKE_CHUNK_FILES", "5")
    monkeypatch.setenv("PCVE_INTAKE_SCHEDULE", "none")  # else unpausing adds today's scheduled run to ours
    before = len(smtp.messages)
    port = _free_port(int(os.getenv("PCVE_TEST_AIRFLOW_PORT", "28080")))
    proc = start_standalone(home, port=port, log_path=tmp_path / "standalone.log")
    try:
        wait_until_healthy(port=port, timeout=300, proc=proc)
        dags = ("office_intake", "warehouse_build", "ministry_extract")
        for _ in range(90):
            listed = {d["dag_id"] for d in _api(port, "GET", "/api/v2/dags?limit=100")["dags"]}
            if set(dags) <= listed:
                break
            time.sleep(2)
        for dag_id in dags:
            _api(port, "PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        _api(port, "POST", "/api/v2/dags/office_intake/dagRuns", {"logical_date": None})
        deadline = time.monotonic() + 900
        runs: dict = {}
        while time.monotonic() < deadline:
            runs = {d: [r["state"] for r in _api(port, "GET", f"/api/v2/dags/{d}/dagRuns")["dag_runs"]]
                    for d in dags}
            if all(runs[d] and runs[d][-1] in ("success", "failed") for d in dags):
                break
            time.sleep(5)
        # A backfill of submission_deadlines: what was overdue on those days, and nothing sent.
        # Unpausing it also starts today's scheduled run, which does send (one digest per office).
        _api(port, "PATCH", "/api/v2/dags/submission_deadlines", {"is_paused": False})
        _create_backfill(port, {"dag_id": "submission_deadlines", "from_date": "2017-08-11T00:00:00Z",
                                "to_date": "2017-08-13T00:00:00Z"})
        while time.monotonic() < deadline:
            found = _api(port, "GET", "/api/v2/dags/submission_deadlines/dagRuns")["dag_runs"]
            if len(found) >= 3 and all(r["state"] in ("success", "failed") for r in found):
                break
            time.sleep(5)
    finally:
        stop_standalone(proc)
        blocker.rmdir()
    with _af(home) as con:
        states = dict(con.execute("select dag_id, state from dag_run where dag_id != 'submission_deadlines'"))
        deadlines = con.execute("select run_type, state from dag_run where dag_id = 'submission_deadlines'").fetchall()
        xcoms = con.execute("select r.run_type, x.task_id, x.value from xcom x join dag_run r "
                            "on r.run_id = x.run_id and r.dag_id = x.dag_id "
                            "where x.dag_id = 'submission_deadlines' and x.key = 'return_value'").fetchall()
    assert states == {"office_intake": "failed", "warehouse_build": "success", "ministry_extract": "success"}, \
        (runs, (tmp_path / "standalone.log").read_text(errors="replace")[-3000:])
    new = smtp.messages[before:]
    failures = [m for m in new if "run failed" in m["Subject"]]
    assert len(failures) == 1 and "office_intake run failed" in failures[0]["Subject"]
    assert "held back: almaty: 1 file(s)" in _body(failures[0])
    # the backfill: two days of August 2017, each with almaty's 2017-07 overdue as of that day, nothing sent
    assert sorted(deadlines) == [("backfill", "success"), ("backfill", "success"), ("scheduled", "success")]
    backfilled = {task: [json.loads(v) for rt, t, v in xcoms if rt == "backfill" and t == task]
                  for task in ("find_overdue", "notify_overdue")}
    assert sorted(x["as_of"] for x in backfilled["find_overdue"]) == ["2017-08-11", "2017-08-12"]
    assert all(any((o["office"], o["period"]) == ("almaty", "2017-07") for o in x["overdue"])
               for x in backfilled["find_overdue"])
    assert all(x["backfill"] is True and x["sent"] == [] for x in backfilled["notify_overdue"])
    overdue_mails = [m for m in new if "overdue" in m["Subject"]]
    assert not any("2017-07" in _body(m) for m in overdue_mails)  # only today's run sent, about today
    assert {m["Subject"].split()[1].rstrip(":") for m in overdue_mails} <= {"almaty", "turkistan"}
    assert (h.exports / "2017" / "manifest.json").is_file()  # the extracts the assets led to


# ---------------------------------------------------------------- a large backlog
def test_a_2500_file_backlog_goes_through_airflow_in_a_bounded_number_of_tasks(tmp_path, monkeypatch):
    """2,560 one-row workbooks of 6 offices (40 years each, as a region joining with its history).
    At 200 files a chunk they would need 14 staging tasks; a cap of 6 makes the chunks grow
    instead. (Each staging task pays the task start and GX's imports: on a loaded 2-core machine
    22 tasks of 120 files took ~40 s each, hence few large chunks.)"""
    from pcve.demo import write_synth, write_synth_config

    home = tmp_path / "big"
    h = Home.at(home).ensure()
    res = write_synth(h.inbox, 6, 40, rows_per_sheet=1, seed=7, bad_share=0.0)
    config_dir = write_synth_config(res, home / "config")
    files = [p for p in h.inbox.rglob("*") if p.is_file()]
    assert len(files) >= 2500
    monkeypatch.setenv("PCVE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("PCVE_INTAKE_CHUNK_FILES", "200")
    monkeypatch.setenv("PCVE_INTAKE_MAX_CHUNKS", "6")
    monkeypatch.setenv("PCVE_ALERTS", "log")
    monkeypatch.setenv("PCVE_DATA_DOCS", "off")
    t0 = time.monotonic()
    dags_test(home, "office_intake", timeout=3000)
    took = time.monotonic() - t0
    with _af(home) as con:
        stage = con.execute("select count(*), max(map_index) from task_instance "
                            "where dag_id = 'office_intake' and task_id = 'stage'").fetchone()
        labels = [r for (r,) in con.execute("select rendered_map_index from task_instance "
                                            "where dag_id = 'office_intake' and task_id = 'stage'")]
        states = {s for (s,) in con.execute("select distinct state from task_instance where dag_id = 'office_intake'")}
    assert states == {"success"}
    assert stage[0] == stage[1] + 1 <= 6  # bounded by the cap, whatever the backlog
    assert sum(int(label.split("(")[1].split()[0]) for label in labels) == len(files)
    decided = _decided(home)
    assert len(decided) == len(files)  # every file decided in the one run
    assert sum(s.status == "accepted" for s in decided.values()) == len(files)
    print(f"\n2,500-file office_intake through airflow dags test: {len(files)} files, {stage[0]} staging "
          f"tasks, {took:.0f} s")
