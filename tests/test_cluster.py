"""The scale profile for real, on this machine: `scripts/airflow-scale.sh` (what `make airflow-scale`
runs) starts PostgreSQL (metadata DB + warehouse DB), redis, the api-server, scheduler,
dag-processor, triggerer and two Celery workers. The demo offices' files arrive, `office_intake`
is triggered through the authenticated REST API, `warehouse_build` and `ministry_extract` follow
through their assets, and every extract file is byte-identical to an in-process DuckDB run of
the same inbox, although the worker running a stage task and then the one running the load were
SIGKILLed in that run (each task ran again on the other worker; every file received once).
`make airflow-stop` then leaves no process behind.

PostgreSQL: PCVE_TEST_POSTGRES (what `make test` starts), else scripts/start-postgres.sh
(PCVE_PG_PORT / PCVE_PG_DIR); the test's own metadata and warehouse databases are made afresh.
Ports: PCVE_TEST_CLUSTER_PORT (18080) and the next free ones.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import pytest

from pcve.app.airflow_runner import (
    PIPELINE_DAGS,
    SCALE_WORKERS,
    WRITER_POOL,
    admin_password,
    read_env_file,
    tagged_pids,
    wait_until_healthy,
)
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[1]
TIMINGS = Path(os.getenv("PCVE_CLUSTER_TIMINGS", "/tmp/pcve-cluster-timings.json"))


class Api:
    def __init__(self, port: int, password: str):
        self.base = f"http://127.0.0.1:{port}"
        body = json.dumps({"username": "admin", "password": password}).encode()
        req = urllib.request.Request(f"{self.base}/auth/token", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            self.token = json.loads(r.read())["access_token"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}")


def _runs(api: Api, dag_id: str) -> list[dict]:
    return api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=50")["dag_runs"]


def _task_instances(api: Api, dag_id: str, run_id: str) -> list[dict]:
    from urllib.parse import quote

    return api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances"
                           "?limit=1000")["task_instances"]


@pytest.fixture(scope="module")
def inbox_files(tmp_path_factory) -> Path:
    from pcve.demo import write_demo

    clerks = tmp_path_factory.mktemp("clerks")
    write_demo(clerks)
    # A quarter of Almaty and Turkistan's three quarters: complete periods with extracts, more
    # stage tasks than one worker's slots, and a few minutes on 2 cores (each task imports GX).
    for f in clerks.rglob("*.xlsx"):
        if f.parent.name == "almaty" and not f.name.startswith(("almaty_2017-01", "almaty_2017-02", "almaty_2017-03")):
            f.unlink()
    return clerks


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, inbox_files) -> tuple[Path, float]:
    """The same inbox through the embedded pipeline (DuckDB, no Airflow)."""
    from pcve.app import pipeline
    from pcve.core.home import Home

    home = Home.at(tmp_path_factory.mktemp("embedded")).ensure()
    shutil.copytree(inbox_files, home.inbox, dirs_exist_ok=True, copy_function=shutil.copy2)
    saved = os.environ.pop("PCVE_WAREHOUSE", None)
    try:
        t0 = time.monotonic()
        pipeline.run(home.root)
        took = time.monotonic() - t0
    finally:
        if saved is not None:
            os.environ["PCVE_WAREHOUSE"] = saved
    return home.root, took


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, inbox_files):
    home = tmp_path_factory.mktemp("cluster")
    port = free_port(int(os.getenv("PCVE_TEST_CLUSTER_PORT", "18080")))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PCVE_WAREHOUSE")}
    env.update({
        "PCVE_AIRFLOW_PORT": str(port),
        "PCVE_REDIS_PORT": str(free_port(port + 300)),
        "PCVE_WORKER_LOG_PORT": str(free_port(port + 700)),
        "PCVE_TRIGGER_LOG_PORT": str(free_port(port + 710)),
        # one retry, soon: a task of a killed worker runs again on the other one
        "PCVE_TASK_RETRIES": "1",
        "PCVE_TASK_RETRY_DELAY": "5",
        # a task message a killed worker had just taken (not yet running) is lost with it: the
        # scheduler queues it again after this long instead of Airflow's 600 s (a safety net: the
        # test kills only a worker that holds none, see _worker_down)
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "240",
        "PCVE_DATA_DOCS": "off",
        # one file a staging chunk: six mapped stage tasks for the two workers to share
        "PCVE_INTAKE_CHUNK_FILES": "1",
    })
    url = os.getenv("PCVE_TEST_POSTGRES") or subprocess.run(
        ["bash", "scripts/start-postgres.sh"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    env.update({"PCVE_SCALE_POSTGRES": url, "PCVE_SCALE_METADATA_DB": "pcve_test_cluster_airflow",
                "PCVE_SCALE_WAREHOUSE_DB": "pcve_test_cluster_wh"})
    _drop_databases(url, [env["PCVE_SCALE_METADATA_DB"], env["PCVE_SCALE_WAREHOUSE_DB"]])
    log = home.parent / f"{home.name}.log"
    proc = subprocess.Popen(["bash", "scripts/airflow-scale.sh", str(home)], cwd=REPO, env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_healthy(port=port, timeout=600, proc=proc)
        yield {"home": home, "port": port, "proc": proc, "log": log, "env": env}
    finally:
        stop = subprocess.run(["make", "--no-print-directory", "airflow-stop", f"HOME_DIR={home}"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=180)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        left = tagged_pids(home)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert left == [], f"processes left after make airflow-stop: {left}"


def _drop_databases(url: str, names: list[str]) -> None:
    import psycopg2

    con = psycopg2.connect(url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for name in names:
                cur.execute(f'drop database if exists "{name}" with (force)')
    finally:
        con.close()


def _wait_until_idle(api: Api, dag_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(api, dag_id)
        assert not [r for r in runs if r["state"] == "failed"], runs
        settled = time.monotonic() > deadline - timeout + 90  # the scheduler has had time to create it
        if (runs or settled) and not [r for r in runs if r["state"] in ("queued", "running")]:
            return
        time.sleep(3)
    raise AssertionError(f"{dag_id} still running after {timeout} s")


def _wait_for_success(api: Api, dag_id: str, after: datetime, timeout: float, run_id: str | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in _runs(api, dag_id) if datetime.fromisoformat(r["run_after"]) >= after
                and run_id in (None, r["dag_run_id"])]
        for r in runs:
            if r["state"] == "failed":
                raise AssertionError(f"{dag_id} run {r['dag_run_id']} failed")
            if r["state"] == "success":
                return r
        time.sleep(3)
    raise AssertionError(f"no successful {dag_id} run within {timeout} s")


def _proc_table() -> dict[int, tuple[str, int, int]]:
    """pid -> (state, ppid, session) of every live process."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            out[int(d.name)] = (fields[0], int(fields[1]), int(fields[3]))
    return out


def _worker_tree(home: Path, name: str) -> list[int]:
    """The live processes of the Celery worker `name`: the session the runner started it in (its
    argv names it) and everything descended from it (the pool, Airflow's task supervisors and the
    tasks themselves), also what left the session."""
    leaders = [p for p in _leaders(home, "celery") if f"{name}@".encode() in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(leaders) == 1, (name, leaders)
    table = _proc_table()
    tree = {p for p, (state, _, sid) in table.items() if sid == leaders[0] and state != "Z"}
    grew = True
    while grew:
        more = {p for p, (state, ppid, _) in table.items() if ppid in tree and state != "Z"} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def _freeze(pids: list[int], sig: int) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


@contextmanager
def _worker_down(cluster: dict, api: Api, run_id: str, task_id: str, timeout: float = 600):
    """Catch a Celery worker running a `task_id` task of the run and SIGKILL it with every process
    under it (a machine gone: no warm shutdown, no heartbeat, no acknowledgement). Yields (its
    name, the task instances it was running).

    Only a worker that holds no task it has not started: one it had would be lost with it until
    the scheduler's task_queued_timeout. With late acknowledgement a worker holds at most
    concurrency x prefetch multiplier (1) messages, so a worker with every slot running holds
    none, nor does any worker when no task instance of the run is queued. The worker is frozen
    (SIGSTOP) while that is checked again, then killed. The runner would start it again at once
    (`_supervise(restart=True)`): it is held (SIGSTOP) while the block runs, so the worker stays
    down until the block ends."""
    slots = int(read_env_file()["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    runner = cluster["proc"].pid
    deadline = time.monotonic() + timeout

    def full() -> dict[str, list[dict]]:
        tis = _task_instances(api, "office_intake", run_id)
        running = {w: [t for t in tis if t["state"] == "running" and t["hostname"] == w] for w in SCALE_WORKERS}
        if not [t for t in tis if t["task_id"] == task_id and t["state"] in (None, "scheduled", "queued", "running")]:
            raise AssertionError(f"every {task_id} task ended before a worker running one was caught: {tis}")
        # nothing of the run queued: no worker can hold a message it has not started either
        idle_queue = not [t for t in tis if t["state"] == "queued"]
        return {w: ts for w, ts in running.items()
                if (len(ts) == slots or idle_queue) and task_id in {t["task_id"] for t in ts}}

    os.kill(runner, signal.SIGSTOP)
    try:
        while time.monotonic() < deadline:
            for name in full():
                tree = _worker_tree(cluster["home"], name)
                _freeze(tree, signal.SIGSTOP)
                held = full().get(name)  # still every slot, frozen now: nothing can change
                if not held:
                    _freeze(tree, signal.SIGCONT)
                    continue
                while tree:  # a process forked before the freeze is caught by the next pass
                    _freeze(tree, signal.SIGKILL)
                    time.sleep(0.5)
                    table = _proc_table()
                    tree = [p for p in tree if p in table and table[p][0] != "Z"] + \
                           [p for p, (state, ppid, _) in table.items() if ppid in tree and state != "Z"]
                yield name, held
                return
            time.sleep(0.5)
        raise AssertionError(f"no worker caught running {task_id} with nothing unstarted within {timeout} s")
    finally:
        os.kill(runner, signal.SIGCONT)


def _tries(api: Api, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict]:
    from urllib.parse import quote

    return api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
                           f"{task_id}/{map_index}/tries")["task_instances"]


def _set_pool_slots(api: Api, pool: str, slots: int) -> None:
    # Airflow validates a pool patch as a whole pool (name, slots, include_deferred); only slots changes.
    now = api.call("GET", f"/api/v2/pools/{pool}")
    got = api.call("PATCH", f"/api/v2/pools/{pool}?update_mask=slots",
                   {"pool": pool, "slots": slots, "include_deferred": now["include_deferred"]})
    assert got["slots"] == slots, got


def _kill_worker_running(api: Api, cluster: dict, run_id: str, task_id: str) -> dict:
    """Kill a worker that runs a `task_id` task of the run; keep it down until every task instance
    it was running has run again, successfully, on the other worker. Returns what was killed."""
    t0 = time.monotonic()
    with _worker_down(cluster, api, run_id, task_id) as (victim, held):
        (other,) = set(SCALE_WORKERS) - {victim}
        hit = [(t["task_id"], t["map_index"], t["try_number"]) for t in held]
        deadline = time.monotonic() + 600
        pending = list(hit)
        while pending and time.monotonic() < deadline:
            time.sleep(3)
            for task, index, died in list(pending):
                tries = _tries(api, "office_intake", run_id, task, index)
                if any(t["try_number"] > died and t["state"] == "success" for t in tries):
                    pending.remove((task, index, died))
        assert not pending, f"not run again while {victim} was down: {pending}"
        recovered = time.monotonic() - t0
    for task, index, died in hit:
        tries = {t["try_number"]: t for t in _tries(api, "office_intake", run_id, task, index)}
        # the try on the dead worker failed (the scheduler saw no heartbeat); the retry ran on the other
        assert tries[died]["hostname"] == victim and tries[died]["state"] == "failed", tries[died]
        assert [t["hostname"] for n, t in tries.items() if n > died and t["state"] == "success"] == [other], tries
    return {"worker": victim, "tasks": hit, "recovered_s": recovered}


def _warehouse_url(cluster: dict) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(cluster["env"]["PCVE_SCALE_POSTGRES"])
    return u._replace(path="/" + cluster["env"]["PCVE_SCALE_WAREHOUSE_DB"]).geturl()


def test_the_cluster_runs_the_pipeline_through_a_killed_worker_and_writes_the_embedded_runs_extracts(
        cluster, inbox_files, in_process):
    home = cluster["home"]
    api = Api(cluster["port"], admin_password(home))
    for dag_id in PIPELINE_DAGS:
        for _ in range(60):  # the DAG processor's first pass
            try:
                api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                break
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise
                time.sleep(3)
    # Unpausing makes the scheduler start the latest daily office_intake run (catchup=False): let it
    # find the inbox empty and finish before any file arrives.
    _wait_until_idle(api, "office_intake", 600)
    # the offices' files arrive
    shutil.copytree(inbox_files, home / "inbox", dirs_exist_ok=True, copy_function=shutil.copy2)
    started = datetime.now().astimezone()
    t0 = time.monotonic()
    # The writer pool is closed while a staging worker is killed and its tasks retried: else the
    # load (one task after every stage) may start and end during that minute, before a worker
    # running it can be caught (seen on the 2-core CI machine). Opened again in every case.
    _set_pool_slots(api, WRITER_POOL, 0)
    try:
        run = api.call("POST", "/api/v2/dags/office_intake/dagRuns", {"logical_date": None})
        # A worker dies while it parses and validates a workbook: its tasks run again on the other one.
        killed = _kill_worker_running(api, cluster, run["dag_run_id"], "stage")
        load = [t for t in _task_instances(api, "office_intake", run["dag_run_id"]) if t["task_id"] == "load"]
        assert load and load[0]["state"] in (None, "scheduled"), load  # held by the closed pool
    finally:
        _set_pool_slots(api, WRITER_POOL, 1)
    # And the worker that loads the staged files into the warehouse (the writer pool's task): the
    # retry decides and loads them again, under the same submission ids, each once.
    killed_load = _kill_worker_running(api, cluster, run["dag_run_id"], "load")
    intake = _wait_for_success(api, "office_intake", started, 1200, run_id=run["dag_run_id"])
    build = _wait_for_success(api, "warehouse_build", started, 900)
    extract = _wait_for_success(api, "ministry_extract", started, 900)
    took = time.monotonic() - t0
    assert build["run_type"] == "asset_triggered" and extract["run_type"] == "asset_triggered"

    # Every extract file is byte-identical to the embedded DuckDB run's.
    embedded, embedded_took = in_process
    periods = sorted(p.name for p in (embedded / "exports").iterdir() if not p.name.startswith("."))
    assert periods == sorted(p.name for p in (home / "exports").iterdir() if not p.name.startswith("."))
    for period in periods:
        a, b = embedded / "exports" / period, home / "exports" / period
        names = sorted(x.name for x in a.iterdir())
        assert names == sorted(x.name for x in b.iterdir()), period
        _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        assert not mismatch and not errors, (period, mismatch, errors)

    # No file was received twice: one `received` event in the ledger and one raw.submissions row
    # each, and no form row twice.
    from ingest import ledger as L

    files = {(f.parent.name, f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in inbox_files.rglob("*.xlsx")}
    received = [(e["office"], e["file_name"], e["sha256"]) for e in L.read(home / "ledger.jsonl")
                if e.get("event") == "received"]
    assert sorted(received) == sorted(files)
    _assert_no_duplicate_rows(_warehouse_url(cluster), files)

    # The mapped staging tasks (one file a chunk here) ran on both workers; the warehouse writers
    # one at a time (the pool).
    tis = {dag_id: _task_instances(api, dag_id, r["dag_run_id"])
           for dag_id, r in (("office_intake", intake), ("warehouse_build", build), ("ministry_extract", extract))}
    stage = [t for t in tis["office_intake"] if t["task_id"] == "stage"]
    assert len(stage) == len(files) and {t["state"] for t in stage} == {"success"}
    tried_on = {t["hostname"] for s in stage for t in _tries(api, "office_intake", intake["dag_run_id"], "stage",
                                                            s["map_index"])}
    assert tried_on == set(SCALE_WORKERS)  # the killed worker's own tries too
    writers = sorted((datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"]), t["task_id"])
                     for ts in tis.values() for t in ts if t["pool"] == WRITER_POOL and t["state"] == "success")
    assert {w[2] for w in writers} >= {"load", "build", "export"}
    for (_, end, first), (start, _, second) in zip(writers, writers[1:], strict=False):
        assert end <= start, f"{first} and {second} held the one-slot writer pool at once"

    TIMINGS.write_text(json.dumps({"cluster_s": round(took, 1), "embedded_s": round(embedded_took, 1),
                                   "files": len(stage), "killed": killed["worker"],
                                   "killed_tasks": len(killed["tasks"]),
                                   "kill_to_retried_s": round(killed["recovered_s"], 1),
                                   "load_killed_on": killed_load["worker"],
                                   "load_kill_to_retried_s": round(killed_load["recovered_s"], 1)}))


def _assert_no_duplicate_rows(url: str, files: set[tuple[str, str, str]]) -> None:
    import psycopg2

    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("select office_code, file_name, sha256 from raw.submissions")
            rows = cur.fetchall()
            assert sorted(rows) == sorted(files)
            cur.execute("select table_name from information_schema.columns where table_schema = 'raw' "
                        "and column_name = 'row_number'")
            for (table,) in cur.fetchall():
                cur.execute(f'select count(*), count(distinct (submission_id, sheet, row_number)) from raw."{table}"')
                total, distinct = cur.fetchone()
                assert total == distinct, (table, total, distinct)
    finally:
        con.close()


def _leaders(home: Path, word: str) -> list[int]:
    """The running processes the runner started itself (session leaders) whose command has `word`."""
    from pcve.app.airflow_runner import _sessions_file

    out = []
    for pid in (int(x) for x in _sessions_file(home).read_text().split()):
        try:
            if word in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                out.append(pid)
        except OSError:
            continue
    return out


def test_a_scheduler_killed_mid_run_comes_back_and_the_run_completes(cluster, tmp_path):
    from ingest import ledger as L
    from pcve.demo import write_demo

    home = cluster["home"]
    api = Api(cluster["port"], admin_password(home))
    before = set(L.LedgerState.load(home / "ledger.jsonl").submissions)
    # Almaty's second quarter arrives
    from pcve.demo import demo_submissions

    write_demo(tmp_path / "clerks")
    q2 = {s.file_name for s in demo_submissions()
          if s.office == "almaty" and s.period.token in ("2017-04", "2017-05", "2017-06")}
    new = sorted(f for f in (tmp_path / "clerks" / "almaty").iterdir() if f.name in q2)
    assert len(new) == 3
    for f in new:
        shutil.copy2(f, home / "inbox" / "almaty" / f.name)
    started = datetime.now().astimezone()
    run = api.call("POST", "/api/v2/dags/office_intake/dagRuns", {"logical_date": None})
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # kill it while the run's stage tasks are under way
        if any(t["task_id"] == "stage" and t["state"] in ("queued", "running")
               for t in _task_instances(api, "office_intake", run["dag_run_id"])):
            break
        time.sleep(1)
    (scheduler,) = _leaders(home, "scheduler")
    os.kill(scheduler, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not [p for p in _leaders(home, "scheduler") if p != scheduler]:
        time.sleep(1)
    assert [p for p in _leaders(home, "scheduler") if p != scheduler], "the scheduler was not started again"

    _wait_for_success(api, "office_intake", started, 1200, run_id=run["dag_run_id"])
    _wait_for_success(api, "warehouse_build", started, 900)
    _wait_for_success(api, "ministry_extract", started, 900)
    state = L.LedgerState.load(home / "ledger.jsonl")
    received = [s for k, s in state.submissions.items() if k not in before]
    assert sorted(s.file_name for s in received) == sorted(f.name for f in new)  # each once
    assert {s.status for s in received} == {"accepted"}
    assert (home / "exports" / "2017Q2" / "indicators.csv").is_file()


def test_the_celery_executor_imports_with_the_locked_celery():
    """The locked celery 5.7 dropped celery.backends.database.retry, which the locked provider
    imports: pcve.app.celery_compat (loaded by the scale profile's airflow_local_settings) restores it."""
    code = ("from pcve.app.celery_compat import patch; patch()\n"
            "from airflow.providers.celery.executors.celery_executor import CeleryExecutor\n"
            "import celery.backends.database as d; print(d.retry.__module__)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] in ("pcve.app.celery_compat", "celery.backends.database")
