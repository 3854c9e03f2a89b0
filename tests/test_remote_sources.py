"""Offices on real remote servers on loopback: Almaty drops its workbooks on an SFTP server (Debian's
OpenSSH sshd, key authentication, chrooted when the tests run as root), Turkistan in an S3 bucket
(moto's S3 server over HTTP, s3fs pointed at it by the office's Airflow connection in its env form).
The real pipeline (pcve.pipeline, in-process) pulls, validates, loads and reports back into each
office's own remote folder. One sshd and one S3 server serve the whole session.

Credentials reach the pipeline only through the environment (PCVE_SFTP_KEY_FILE,
PCVE_SFTP_KNOWN_HOSTS; AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN), never through the location string.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from ingest import ledger as L
from ingest import sources
from pcve import pipeline
from pcve.demo import demo_submissions, write_demo
from pcve.home import Home
from tests.oracle import demo_expectations
from tests.servers import closed_port, start_s3, start_sshd

pytestmark = pytest.mark.e2e

BUCKET = "pcve-offices"
_n = itertools.count()


@pytest.fixture(scope="session")
def sshd():
    server = start_sshd()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3():
    server = start_s3()
    import boto3

    # the bucket is the ministry's, made once; offices get prefixes in it
    boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="pcve-test",
                 aws_secret_access_key="pcve-test").create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


def _aws_conn(endpoint: str) -> str:
    # obviously fake keys: moto accepts any
    return json.dumps({"conn_type": "aws", "login": "pcve-test-key", "password": "pcve-test-secret",
                       "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}})


@pytest.fixture()
def remote(sshd, s3, monkeypatch):
    """Almaty on SFTP, Turkistan on S3, each in a folder of its own for this test."""
    n = next(_n)
    sshd.office_folder(f"almaty-{n}")
    loc = {"almaty": sshd.url(f"almaty-{n}"), "turkistan": f"s3://{BUCKET}/run-{n}/turkistan"}
    monkeypatch.setenv("PCVE_SFTP_KEY_FILE", str(sshd.key_file))
    monkeypatch.setenv("PCVE_SFTP_KNOWN_HOSTS", str(sshd.known_hosts))
    monkeypatch.setenv("AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN", _aws_conn(s3.endpoint))
    monkeypatch.setenv("PCVE_SOURCE_ALMATY", loc["almaty"])
    monkeypatch.setenv("PCVE_SOURCE_TURKISTAN", loc["turkistan"])
    monkeypatch.setenv("PCVE_DATA_DOCS", "off")
    yield loc
    sources.close_all()


def _upload(loc: dict, files: list[Path]) -> dict[str, dict[str, str]]:
    """The office's clerk sends its files (oldest first); returns {office: {name: sha256}}."""
    sent: dict[str, dict[str, str]] = {}
    for path in files:
        office = path.parent.name
        fs, root = sources.filesystem(loc[office], office)
        target = f"{root}/{path.name}"
        fs.put_file(str(path), target)
        if office == "almaty":
            # SFTP keeps a file's modification time: the one the clerk's machine gave it
            fs.ftp.utime(target, (path.stat().st_mtime, path.stat().st_mtime))
        else:
            time.sleep(1.1)  # S3 keeps the upload time, to the second: the order of sending
        sent.setdefault(office, {})[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sent


def _remote_names(loc: str, office: str, sub: str = "") -> set[str]:
    fs, root = sources.filesystem(loc, office)
    folder = f"{root}/{sub}".rstrip("/")
    fs.invalidate_cache(folder)
    return {p.rsplit("/", 1)[-1] for p in fs.ls(folder, detail=False)}


def test_remote_offices_go_through_the_whole_pipeline(remote, tmp_path, monkeypatch):
    files = write_demo(tmp_path / "clerks")
    sent = _upload(remote, files)
    home = Home.at(tmp_path / "home").ensure()
    summary = pipeline.run(home.root)

    assert summary["intake"]["source_errors"] == []
    # Every file sent was received once, under the sha256 of the bytes the clerk sent, and archived.
    state = L.LedgerState.load(home.ledger)
    received = {(s.office, s.file_name): s for s in state.submissions.values()}
    assert {(o, n) for o, names in sent.items() for n in names} == set(received)
    for (office, name), sub in received.items():
        assert sub.sha256 == sent[office][name]
        archived = home.archive / sub.sha256[:2] / sub.sha256
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == sub.sha256
    # Each got the decision the demo's generator says it must (superseded ones were accepted first).
    want = {(s.office, s.file_name): s.status for s in demo_submissions()}
    assert {k: s.status for k, s in received.items()} == {k: "rejected" if v == "rejected" else "accepted"
                                                         for k, v in want.items()}
    # The office sees each outcome in its own remote folder, under the file's own (Kazakh, Russian) name.
    for office, names in sent.items():
        reports = _remote_names(remote[office], office, sources.REPORTS_DIR)
        for name in names:
            expected = {f"{name}.errors.csv", f"{name}.errors.html"} if want[(office, name)] == "rejected" \
                else {f"{name}.receipt.html"}
            assert expected <= reports, (office, name)
        assert len(reports) == sum(2 if want[(office, n)] == "rejected" else 1 for n in names)
    # The figures the generator put into the files are what the warehouse publishes.
    cfg_roots = {"almaty": "750000000", "turkistan": "610000000"}
    con = duckdb.connect(str(home.root / "published" / "warehouse.duckdb"), read_only=True)
    try:
        for pid, offices in demo_expectations().items():
            for office, values in offices.items():
                got = dict(con.execute(
                    "select indicator_code, value from main.mart_indicator_values "
                    "where office_code = ? and kato = ? and dhis2_period_id = ?", [office, cfg_roots[office], pid]).fetchall())
                assert {k: None if got.get(k) is None else float(got[k]) for k in values} == \
                       {k: None if v is None else float(v) for k, v in values.items()}, (pid, office)
    finally:
        con.close()
    assert (home.exports / "2017" / "indicators.csv").is_file()
    assert (home.exports / "2025Q1" / "indicators.csv").is_file()
    # Nothing new on the servers: nothing is fetched again.
    assert pipeline.intake(home.root)["files"] == 0

    # `pcve run` with Turkistan's server gone: Almaty goes on, the run says which source was not read
    # and exits 5 (the warehouse is built already: no dbt build)
    from click.testing import CliRunner

    from pcve.cli import EXIT_SOURCE, main

    nowhere = closed_port()
    monkeypatch.setenv("AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN", _aws_conn(f"http://127.0.0.1:{nowhere}"))
    res = CliRunner().invoke(main, ["run", "--json", "--home", str(home.root)])
    assert res.exit_code == EXIT_SOURCE == 5, res.output
    out = json.loads(res.stdout)
    assert out["intake"]["source_errors"] == ["turkistan"]
    assert f"127.0.0.1:{nowhere}" in out["intake"]["offices"]["turkistan"]["source_error"]["message"]


def _one_file_each(tmp_path: Path) -> list[Path]:
    files = write_demo(tmp_path / "clerks")
    return [next(f for f in files if f.parent.name == "almaty"), next(f for f in files if f.parent.name == "turkistan")]


@pytest.mark.parametrize("down", ["almaty", "turkistan"])
def test_an_unreachable_source_fails_only_its_office(remote, tmp_path, monkeypatch, sshd, s3, down):
    sent = _upload(remote, _one_file_each(tmp_path))
    home = Home.at(tmp_path / "home").ensure()
    up = "turkistan" if down == "almaty" else "almaty"
    nowhere = closed_port()
    if down == "almaty":
        monkeypatch.setenv("PCVE_SOURCE_ALMATY", remote["almaty"].replace(f":{sshd.port}/", f":{nowhere}/"))
    else:
        monkeypatch.setenv("AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN", _aws_conn(f"http://127.0.0.1:{nowhere}"))

    res = pipeline.intake(home.root)
    assert res["source_errors"] == [down]
    err = res["offices"][down]["source_error"]
    assert (err["type"], err["transient"]) == ("SourceUnavailable", True)
    assert str(nowhere) in err["message"]
    assert [a["file"] for a in res["offices"][up]["accepted"]] == list(sent[up])
    assert {s.office for s in L.LedgerState.load(home.ledger).submissions.values()} == {up}

    # The server is back: the next run takes the office's file; nothing was lost.
    monkeypatch.setenv("PCVE_SOURCE_ALMATY", remote["almaty"])
    monkeypatch.setenv("AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN", _aws_conn(s3.endpoint))
    again = pipeline.intake(home.root)
    assert again["source_errors"] == []
    assert [a["file"] for a in again["offices"][down]["accepted"]] == list(sent[down])
    assert sources.REPORTS_DIR in _remote_names(remote[down], down)


def test_refused_credentials_and_host_keys_are_not_transient(remote, sshd, tmp_path, monkeypatch):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {kind} {key}\n")
    cases = {
        "a key the server does not know": ("PCVE_SFTP_KEY_FILE", str(other)),
        "a host key that is not the server's": ("PCVE_SFTP_KNOWN_HOSTS", str(tmp_path / "known_hosts")),
    }
    for why, (var, value) in cases.items():
        with monkeypatch.context() as m:
            m.setenv(var, value)
            sources.close_all()
            with pytest.raises(sources.SourceRefused):
                sources.list_files(remote["almaty"], "almaty")
            res = pipeline.intake(Home.at(tmp_path / "home").ensure().root, only_offices=["almaty"])
            assert res["offices"]["almaty"]["source_error"]["transient"] is False, why


def test_a_password_in_a_location_is_never_repeated():
    loc = "sftp://clerk:hunter2@files.example.kz:2222/almaty"
    assert "hunter2" not in sources.redact(loc)
    try:
        sources.list_files(loc.replace("files.example.kz:2222", f"127.0.0.1:{closed_port()}"), "almaty")
    except sources.SourceError as exc:
        assert "hunter2" not in str(exc)
    else:
        pytest.fail("an unreachable server must raise SourceUnavailable")


@pytest.mark.parametrize("down", ["almaty", "turkistan"])
def test_a_server_stopped_after_discovery_fails_the_stage_task_as_transient_and_the_others_load(
        remote, sshd, s3, tmp_path, monkeypatch, down):
    """The office's server answers discovery, then stops: that office's stage task (the chunk's
    pipeline.stage_chunk, what the DAG's `stage` calls) raises a TransientError, which the DAG's retry
    policy retries; the other office stages and loads, and the stopped one's file is held back, not lost.
    The stopped server is one of this test's own: the session's servers serve the other tests."""
    from tests.servers import start_s3, start_sshd
    from tests.servers import stop as stop_server

    if down == "almaty":
        own = start_sshd(sshd.port + 1)
        own.office_folder("almaty")
        monkeypatch.setenv("PCVE_SFTP_KEY_FILE", str(own.key_file))
        monkeypatch.setenv("PCVE_SFTP_KNOWN_HOSTS", str(own.known_hosts))
        loc = {**remote, "almaty": own.url("almaty")}
        where = f"127.0.0.1:{own.port}"
    else:
        own = start_s3(s3.port + 1)
        import boto3

        boto3.client("s3", endpoint_url=own.endpoint, region_name="us-east-1", aws_access_key_id="pcve-test",
                     aws_secret_access_key="pcve-test").create_bucket(Bucket=f"{BUCKET}-down")
        monkeypatch.setenv("AIRFLOW_CONN_PCVE_SOURCE_TURKISTAN", _aws_conn(own.endpoint))
        loc = {**remote, "turkistan": f"s3://{BUCKET}-down/turkistan"}
        where = own.endpoint
    monkeypatch.setenv(f"PCVE_SOURCE_{down.upper()}", loc[down])
    up = "turkistan" if down == "almaty" else "almaty"
    try:
        sent = _upload(loc, _one_file_each(tmp_path))
        home = Home.at(tmp_path / "home").ensure()
        offices = ["almaty", "turkistan"]
        plan = pipeline.plan_chunks([{"office": o, "files": pipeline.discover(home.root, o)} for o in offices])
        assert sorted(c["office"] for c in plan) == offices
    finally:
        sources.close_all()  # each Airflow task is a process of its own: no connection carries over
        # the server process only: its client key and known host stay where the office's settings name them
        stop_server(own.proc) if down == "almaty" else own.stop()
    try:
        _stage_and_load_without(down, up, home, plan, sent, where)
    finally:
        own.stop()


def _stage_and_load_without(down: str, up: str, home: Home, plan: list[dict], sent: dict, where: str) -> None:
    from airflow.sdk import RetryAction

    from pcve.errors import TransientError

    offices = ["almaty", "turkistan"]
    staged = []
    for chunk in plan:
        if chunk["office"] == down:
            with pytest.raises(TransientError) as caught:
                pipeline.stage_chunk(home.root, down, chunk["refs"])
            assert isinstance(caught.value, sources.SourceUnavailable)
            assert where.split("//")[-1] in str(caught.value)
            # the DAG's policy: retried with backoff (first try of PCVE_TASK_RETRIES + 1)
            assert _retry_policy().evaluate(caught.value, 1, 4).action is RetryAction.RETRY
        else:
            staged.append({"office": up, "chunk": chunk["chunk"],
                           "staged": pipeline.stage_chunk(home.root, up, chunk["refs"])})
    # load (trigger rule all_done) runs after the failed chunk: the other office loads, this one waits
    loaded = pipeline.load_chunks(home.root, offices, plan, staged)
    assert [a["file"] for a in loaded["offices"][up]["accepted"]] == list(sent[up])
    assert set(loaded["held_back"]) == {down} and loaded["held_back"][down]["files"] == 1
    assert {s.office for s in L.LedgerState.load(home.ledger).submissions.values()} == {up}


def _retry_policy():
    """The retry policy office_intake's tasks carry (dags/_common.py; test_dag_integrity checks the
    stage task has it)."""
    import sys

    from pcve.airflow_runner import DAGS_FOLDER

    sys.path.insert(0, str(DAGS_FOLDER))
    try:
        import _common
    finally:
        sys.path.remove(str(DAGS_FOLDER))
    return _common.RETRY_POLICY
