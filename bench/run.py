"""`make bench`: the floor, pcve (cold, incremental, no-op), the naive approach and the DAG
parse times, in one process tree and one run; writes BENCHMARKS.md.

    python -m bench.run [--offices 20] [--years 10] [--rows 10] [--scale 10] [--naive-sample 40]
                        [--out DIR] [--work DIR] [--quick] [--large] [--no-profile]

`--large` adds a home of ten times the offices (~24,000 workbooks at the defaults): its cold,
incremental and no-op runs only. The incremental run of the base size is profiled with py-spy
(on a copy of the home taken before it), unless `--no-profile`.

Every measured program runs in its own subprocess (this process only synthesises the
workbooks, copies folders and does arithmetic), with PYTHONDONTWRITEBYTECODE removed from
its environment (with it set, every import recompiles: GX's import alone takes 12 s instead
of ~4 s) and with the embedded DuckDB warehouse (PCVE_WAREHOUSE removed). Wall time is taken
around the subprocess, peak memory from its rusage (os.wait4). Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pcve.core.db import target
from pcve.core.home import Home

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"
SECTIONS = ("## Targets", "## Machine", "## Workload", "## Figures", "## Marginal intake cost",
            "## Naive approach", "## Incremental and no-op runs", "## Memory and growth with rows",
            "## Profile of the incremental run", "## Large home", "## PostgreSQL target",
            "## DAG parse times", "## Office portal check", "## Gaps and their causes", "## How to reproduce")

# The targets.
T_MARGINAL_X_FLOOR = 5.0
T_NAIVE_X = 20.0
T_INCREMENTAL_SHARE = 0.10
T_INCREMENTAL_SHARE_LARGE = 0.03  # at ten times the workbooks (--large): the cost does not grow with the home
T_INCREMENTAL_MEMORY_SHARE = 0.25  # the incremental run's peak memory against the cold run's
T_NOOP_SECONDS = 5.0
T_PEAK_BYTES = 2**30
T_DAG_SECONDS = 0.3


# ------------------------------------------------------------------ subprocesses
def child_env(config_dir: Path | None = None, airflow_home: Path | None = None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PCVE_WAREHOUSE", None)  # the embedded DuckDB warehouse of each home
    env.pop("PCVE_HOME", None)
    env["GX_ANALYTICS_ENABLED"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    if config_dir is not None:
        env["PCVE_CONFIG_DIR"] = str(config_dir)
    if airflow_home is not None:
        env["AIRFLOW_HOME"] = str(airflow_home)
    return env


class _TreeSampler:
    """Peak of the summed memory of a process and all its descendants (parser and render workers),
    sampled every 50 ms: PSS (proportional set size: a page shared by n processes counts 1/n in
    each, so copy-on-write pages of forked workers count once), or RSS where PSS cannot be read.
    rusage's ru_maxrss only gives the largest single process; the sum is what the machine holds."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for pr in procs:
                try:
                    total += _pss(pr)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _pss(proc) -> int:
    """PSS in bytes from /proc/<pid>/smaps_rollup (cheap: one summary), else RSS."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return proc.memory_info().rss


def measure(cmd: list[str], env: dict, label: str) -> dict:
    """Run cmd; wall seconds, peak RSS (bytes) from its rusage (the largest single process), the
    sampled peak of its whole process tree, stdout (parsed as JSON if it is)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(REPO))
        sampler = _TreeSampler(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        tree_peak = sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}): {' '.join(cmd)}\n{stdout[-2000:]}\n{stderr[-3000:]}")
    try:
        data = json.loads(stdout)
    except ValueError:
        data = None
    peak = usage.ru_maxrss * 1024
    return {"wall": wall, "peak_rss": peak, "peak_tree": max(tree_peak, peak), "json": data, "stdout": stdout}


def _log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ children run by this module
def _child_intake(home: str) -> None:
    """pcve's intake step alone (pipeline.intake), timed as pipeline.run times it."""
    from pcve.app import pipeline

    h = Home.at(home).ensure()
    t0 = time.perf_counter()
    with h.writer_lock():
        res = pipeline.intake(h.root)
    took = time.perf_counter() - t0
    print(json.dumps({"intake": took, "files": res["files"], "timings": res.get("timings", {})}))


def _child_run_nodbt(home: str) -> None:
    """--quick only: pipeline.run with dbt build, publish and extracts left out (a sanity run)."""
    from pcve.app import pipeline

    pipeline.build_warehouse = lambda *a, **k: {"built": False, "reason": "skipped (--quick)"}
    pipeline.publish = lambda *a, **k: {"skipped": "--quick"}
    pipeline.export = lambda *a, **k: {"written": [], "skipped": "--quick"}
    print(json.dumps(pipeline.run(home), default=str))


_PARSE_ONE = r"""
import runpy, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from airflow.sdk import DAG, Asset, AssetAlias, AssetAny, Param, dag, task  # noqa: F401
t1 = time.perf_counter()
out = {}
for path in sys.argv[2:]:
    t = time.perf_counter()
    runpy.run_path(path, run_name="pcve_dag_under_bench")
    out[path] = time.perf_counter() - t
import json
print(json.dumps({"airflow_import": t1 - t0, "files": out}))
"""


# ------------------------------------------------------------------ data sets
def synth(dest: Path, offices: int, years: int, rows: int, seed: int) -> dict:
    from pcve.demo import write_synth, write_synth_config

    if dest.exists():
        shutil.rmtree(dest)
    res = write_synth(dest / "inbox", offices, years, rows, seed)
    write_synth_config(res, dest / "config")
    bad = set(res["bad_files"])
    held = next(p for p in reversed(res["files"]) if p not in bad)  # the latest valid workbook of the last office
    return {"inbox": dest / "inbox", "config": dest / "config", "files": res["files"], "held": held,
            "offices": sorted(res["offices"]), "workbooks": res["workbooks"]}


def copy_inbox(src: Path, dest: Path, offices: list[str] | None = None, exclude: Path | None = None) -> int:
    n = 0
    for office_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        if offices is not None and office_dir.name not in offices:
            continue
        target = dest / office_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for f in office_dir.iterdir():
            if f.is_file() and f != exclude:
                shutil.copy2(f, target / f.name)  # keeps the modification time: the received time
                n += 1
    return n


# ------------------------------------------------------------------ one scale
def bench_scale(work: Path, name: str, a, rows: int, naive_sample: int, full: bool) -> dict:
    py = sys.executable
    pcve = str(Path(py).with_name("pcve"))
    base = work / name
    _log(f"{name}: synthesising {a.offices} offices x {a.years} years, {rows} rows per sheet")
    ds = synth(base / "src", a.offices, a.years, rows, a.seed)
    env = child_env(ds["config"], base / "airflow")
    small_offices = ds["offices"][: max(1, a.small_offices)]
    r: dict = {"rows_per_sheet": rows, "workbooks": ds["workbooks"], "small_offices": small_offices}

    small_inbox = base / "small_inbox"
    r["small_workbooks"] = copy_inbox(ds["inbox"], small_inbox, small_offices)

    _log(f"{name}: floor")
    floor_full = measure([py, "-m", "bench.floor", str(ds["inbox"]), str(base / "floor_full.duckdb")], env, "floor")
    floor_small = measure([py, "-m", "bench.floor", str(small_inbox), str(base / "floor_small.duckdb")], env, "floor")
    r["floor"] = {"full": floor_full["json"] | {"wall": floor_full["wall"]},
                  "small": floor_small["json"] | {"wall": floor_small["wall"]}}

    if full:
        _log(f"{name}: pcve intake on the small set ({r['small_workbooks']} workbooks)")
        h_small = base / "home_small"
        copy_inbox(ds["inbox"], h_small / "inbox", small_offices)
        small = measure([py, "-m", "bench.run", "--child-intake", str(h_small)], env, "pcve intake (small)")
        r["pcve_small"] = small["json"] | {"wall": small["wall"], "peak_rss": small["peak_rss"]}

    home = base / "home"
    run_cmd = [pcve, "run", "--home", str(home), "--json"] if not a.quick else \
        [py, "-m", "bench.run", "--child-run-nodbt", str(home)]
    r.update(_cold_run(name, ds, home, run_cmd, env))
    if full:
        r.update(_incremental_runs(name, ds, home, run_cmd, env, profile=a.profile and name == "base"))

    _log(f"{name}: naive approach on a sample of {naive_sample} workbooks")
    naive = measure([py, "-m", "bench.naive", str(ds["inbox"]), str(base / "naive.duckdb"), str(naive_sample)],
                    env, "naive")
    r["naive"] = naive["json"] | {"wall": naive["wall"], "peak_rss": naive["peak_rss"]}
    if not a.keep:
        for p in (base / "floor_full.duckdb", base / "floor_small.duckdb", base / "naive.duckdb"):
            p.unlink(missing_ok=True)
    if full and a.postgres:
        r["postgres"] = bench_postgres(base, ds, env, a)
    return r


def bench_large(work: Path, a) -> dict:
    """--large: a home of ten times the offices, its cold, incremental (1 new workbook) and no-op runs
    (no floor, naive or row-size runs: those do not depend on the size of the home). DuckDB gets 1GB:
    the cold build's largest query outgrows the default at this size."""
    offices = a.large_offices or a.offices * 10
    base = work / "large"
    _log(f"large: synthesising {offices} offices x {a.years} years, {a.rows} rows per sheet")
    ds = synth(base / "src", offices, a.years, a.rows, a.seed)
    env = child_env(ds["config"], base / "airflow")
    env.setdefault("PCVE_DUCKDB_MEMORY_LIMIT", "1GB")
    home = base / "home"
    run_cmd = [str(Path(sys.executable).with_name("pcve")), "run", "--home", str(home), "--json"]
    r: dict = {"offices": offices, "years": a.years, "rows_per_sheet": a.rows, "workbooks": ds["workbooks"]}
    r.update(_cold_run("large", ds, home, run_cmd, env))
    r.update(_incremental_runs("large", ds, home, run_cmd, env, profile=False))
    r["incremental_share"] = r["incremental"]["wall"] / r["cold"]["wall"]
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    return r


def _cold_run(name: str, ds: dict, home: Path, run_cmd: list[str], env: dict) -> dict:
    """The cold run of every workbook but the held one. DuckDB's default memory limit (384MB) can be
    too small for the build's largest query at some sizes: then the run is done again from a fresh
    home with PCVE_DUCKDB_MEMORY_LIMIT=1GB (set in `env` for the runs after it), and the figures say so."""
    r: dict = {}
    for attempt in (1, 2):
        shutil.rmtree(home, ignore_errors=True)
        r["cold_workbooks"] = copy_inbox(ds["inbox"], home / "inbox", exclude=ds["held"])
        _log(f"{name}: pcve cold run ({r['cold_workbooks']} workbooks)")
        try:
            r["cold"] = _run_figures(measure(run_cmd, env, "pcve run (cold)"))
            break
        except RuntimeError as exc:
            if attempt == 2 or "Out of Memory" not in str(exc) or env.get("PCVE_DUCKDB_MEMORY_LIMIT"):
                raise
            _log(f"{name}: DuckDB ran out of memory at its default limit: again with 1GB")
            env["PCVE_DUCKDB_MEMORY_LIMIT"] = "1GB"
    r["duckdb_memory_limit"] = env.get("PCVE_DUCKDB_MEMORY_LIMIT") or "384MB (default)"
    return r


def _incremental_runs(name: str, ds: dict, home: Path, run_cmd: list[str], env: dict, profile: bool) -> dict:
    """One new workbook (the held one), then a run with nothing new; with `profile`, the incremental run
    once more under py-spy on a copy of the home as it was before it (the measured run is not slowed)."""
    r: dict = {}
    copy = home.with_name(home.name + "_profile")
    if profile:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy, symlinks=True)
    for h in (home, copy) if profile else (home,):
        shutil.copy2(ds["held"], h / "inbox" / ds["held"].parent.name / ds["held"].name)
    _log(f"{name}: pcve incremental run (1 new workbook: {ds['held'].name})")
    r["incremental"] = _run_figures(measure(run_cmd, env, "pcve run (incremental)"))
    _log(f"{name}: pcve no-op run")
    r["noop"] = _run_figures(measure(run_cmd, env, "pcve run (no-op)"))
    if profile:
        _log(f"{name}: the incremental run again under py-spy")
        try:
            r["profile"] = profile_run([x if x != str(home) else str(copy) for x in run_cmd], env, copy)
        except Exception as exc:  # the figures stand without it; the report says why it is missing
            r["profile"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        shutil.rmtree(copy, ignore_errors=True)
    return r


#: The pipeline's steps as py-spy shows them (function and file of each step's frame).
PROFILE_STEPS = {"intake": "intake (pcve/app/pipeline.py", "dbt_build": "build_warehouse (pcve/app/pipeline.py",
                 "publish": "publish (pcve/app/pipeline.py", "exports": "export (pcve/app/pipeline.py"}
#: The second process in which dbt is imported, the project parsed (during the intake) and the build run.
PROFILE_DBT_PROCESS = "_child (pcve/app/warehouse/dbt_prepared.py"


def profile_run(cmd: list[str], env: dict, where: Path, rate: int = 100) -> dict:
    """`cmd` under `py-spy record` (collapsed stacks): the share of samples per pipeline step, spent
    importing modules, and the heaviest functions (inclusive) overall and inside dbt and the extracts."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not spy:
        raise RuntimeError("py-spy not found (it is in the dev group: uv sync)")
    raw = where.with_name(where.name + ".pyspy.txt")
    # --subprocesses: the dbt process and the workers too (the main process waits on them, idle)
    measure([spy, "record", "-r", str(rate), "--format", "raw", "--nonblocking", "--subprocesses", "-o", str(raw),
             "--", *cmd], env, "py-spy record")
    stacks = []
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            stacks.append(([_frame(f) for f in stack.split(";")], int(n)))
    raw.unlink(missing_ok=True)
    total = sum(n for _, n in stacks) or 1

    def share(pred) -> float:
        return sum(n for frames, n in stacks if pred(frames)) / total

    def top(within: str | tuple | None, k: int = 10) -> list[tuple[str, float]]:
        """Heaviest functions (inclusive) under `within`, leaving out the frames that merely enclose it
        (as heavy as the whole scope) and the import machinery."""
        counts: dict[str, int] = {}
        scope = 0
        for frames, n in stacks:
            markers = (within,) if isinstance(within, str) else within
            if within is not None and not any(m in f for f in frames for m in markers):
                continue
            scope += n
            for f in set(frames):
                counts[f] = counts.get(f, 0) + n
        skip = ("<module>", "_find_and_load", "_call_with_frames", "_load_unlocked", "exec_module",
                "_handle_fromlist", "Thread.", "wrapper (", "process ", "(click/", "(pcve/app/cli.py",
                "run (pcve/app/pipeline.py", "timed (pcve/app/pipeline.py")
        best = sorted(((f, c / total) for f, c in counts.items()
                       if c < 0.95 * scope and not any(x in f for x in skip)), key=lambda kv: -kv[1])
        return best[:k]

    def leaves(k: int = 12) -> list[tuple[str, float]]:
        counts: dict[str, int] = {}
        for frames, n in stacks:
            counts[frames[-1]] = counts.get(frames[-1], 0) + n
        return sorted(((f, c / total) for f, c in counts.items()), key=lambda kv: -kv[1])[:k]

    dbt = (PROFILE_STEPS["dbt_build"], PROFILE_DBT_PROCESS)
    in_dbt = share(lambda fs: any(m in f for f in fs for m in dbt))
    # dbt runs its nodes in threads of its own, whose stacks do not show the step's frame
    nodes = share(lambda fs: any("call_runner (dbt/" in f for f in fs))
    dbt_imports = share(lambda fs: any(m in f for f in fs for m in dbt)
                        and any(f.startswith("_find_and_load") for f in fs))
    steps = {k: share(lambda fs, m=m: any(m in f for f in fs)) for k, m in PROFILE_STEPS.items()}
    steps["dbt_build"] = in_dbt + nodes  # the dbt process's parse overlaps the intake
    return {"samples": total, "rate": rate, "steps": steps,
            "imports": share(lambda fs: any(f.startswith("_find_and_load") for f in fs)),
            "dbt_parts": {"running the selected nodes (models, tests; dbt's threads)": nodes,
                          "importing dbt": dbt_imports,
                          "start-up, project parse and manifest, other": in_dbt - dbt_imports},
            "top": top(None), "top_dbt": top(dbt), "top_dbt_nodes": top("call_runner (dbt/"),
            "top_exports": top(PROFILE_STEPS["exports"]),
            "self": leaves()}


def _frame(f: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file/in/package.py)': no line, no site-packages prefix."""
    func, _, where = f.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    for marker in (str(REPO) + "/", "site-packages/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{func} ({path}" if where else func


def _run_figures(m: dict) -> dict:
    s = m["json"] or {}
    intake = s.get("intake", {})
    wh = s.get("warehouse", {})
    return {"wall": m["wall"], "peak_rss": m["peak_rss"], "peak_tree": m.get("peak_tree", m["peak_rss"]),
            "timings": s.get("timings", {}), "peak_steps": s.get("peak_rss_mib", {}),
            "intake_timings": intake.get("timings", {}), "files": intake.get("files"),
            "dbt_built": bool(wh.get("built")), "dbt_reason": wh.get("reason"),
            "warehouse": {k: wh.get(k) for k in ("models", "data_tests", "dbt_process") if k in wh},
            "accepted": sum(len(o.get("accepted", [])) for o in intake.get("offices", {}).values()),
            "rejected": sum(len(o.get("rejected", [])) for o in intake.get("offices", {}).values())}


# ------------------------------------------------------------------ the PostgreSQL target (--postgres URL)
def _pg_database(url: str, name: str, drop: bool = False) -> str:
    """Create database `name` afresh (or only drop it) on the server of `url`; returns its URL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2


    t = target(url=url)
    con = psycopg2.connect(host=t.host, port=t.port, user=t.user, password=t.password, dbname=t.dbname)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
            if not drop:
                cur.execute(f"create database {name} encoding 'UTF8' template template0")
                cur.execute("show server_version")
                _log(f"PostgreSQL {cur.fetchone()[0]}: database {name}")
    finally:
        con.close()
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def bench_postgres(base: Path, ds: dict, env: dict, a) -> dict:
    """The DuckDB cold / incremental / no-op runs again with PCVE_WAREHOUSE on a fresh PostgreSQL
    database (dbt target `postgres`, raw layer by COPY): the same workload on the second target."""
    name = f"pcve_bench_{base.name}_{os.getpid()}".lower()
    pg_env = {**env, "PCVE_WAREHOUSE": _pg_database(a.postgres, name)}
    home = base / "home_postgres"
    r: dict = {"database": name, "cold_workbooks": copy_inbox(ds["inbox"], home / "inbox", exclude=ds["held"])}
    run_cmd = [str(Path(sys.executable).with_name("pcve")), "run", "--home", str(home), "--json"] if not a.quick \
        else [sys.executable, "-m", "bench.run", "--child-run-nodbt", str(home)]
    try:
        _log(f"{base.name}: pcve cold run on PostgreSQL ({r['cold_workbooks']} workbooks)")
        r["cold"] = _run_figures(measure(run_cmd, pg_env, "pcve run (cold, PostgreSQL)"))
        shutil.copy2(ds["held"], home / "inbox" / ds["held"].parent.name / ds["held"].name)
        _log(f"{base.name}: pcve incremental run on PostgreSQL")
        r["incremental"] = _run_figures(measure(run_cmd, pg_env, "pcve run (incremental, PostgreSQL)"))
        _log(f"{base.name}: pcve no-op run on PostgreSQL")
        r["noop"] = _run_figures(measure(run_cmd, pg_env, "pcve run (no-op, PostgreSQL)"))
    finally:
        if not a.keep:
            _pg_database(a.postgres, name, drop=True)
    return r


def _postgres_section(w, scales: dict) -> None:
    """## PostgreSQL target: the DuckDB figures beside the same runs on PostgreSQL."""
    w("## PostgreSQL target")
    w("")
    keys = [k for k, s in scales.items() if "postgres" in s]
    if not keys:
        w("Not measured: run with `--postgres URL` (e.g. `--postgres $(scripts/start-postgres.sh)`) to repeat "
          "the cold, incremental and no-op runs with `PCVE_WAREHOUSE` on PostgreSQL.")
        w("")
        return
    w("The same workbooks and runs with `PCVE_WAREHOUSE=postgres://…` (a fresh database; dbt target "
      "`postgres`, raw layer loaded by COPY, publish writes Parquet only: no snapshot file).")
    w("")
    head = [f"{t} ({scales[k]['rows_per_sheet']} rows/sheet)" for k in keys for t in ("DuckDB", "PostgreSQL")]
    w("| figure | " + " | ".join(head) + " |")
    w("| --- | " + " | ".join("---" for _ in head) + " |")

    def line(label, fn):
        vals = []
        for k in keys:
            for run in (scales[k], scales[k]["postgres"]):
                try:
                    vals.append(fn(run))
                except (KeyError, TypeError):
                    vals.append("n/a")
        w(f"| {label} | " + " | ".join(vals) + " |")

    line("cold run, wall", lambda r: _fmt_s(r["cold"]["wall"]))
    for step in ("intake", "dbt_build", "publish", "exports"):
        line(f"&nbsp;&nbsp;step {step}", lambda r, st=step: _fmt_s(r["cold"]["timings"].get(st)))
    line("cold run: accepted / rejected", lambda r: f"{r['cold']['accepted']} / {r['cold']['rejected']}")
    line("cold run, peak RSS", lambda r: _fmt_mb(r["cold"]["peak_rss"]))
    line("incremental run (1 new workbook), wall", lambda r: _fmt_s(r["incremental"]["wall"]))
    line("no-op run, wall", lambda r: _fmt_s(r["noop"]["wall"]))
    w("")


def dag_parse(work: Path, quick: bool) -> dict:
    from pcve.app.airflow_runner import airflow_env

    files = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
    env = airflow_env(work / "airflow_home")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PCVE_TASK_RETRIES", None)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    out: dict = {"files": {}, "airflow_import": [], "fresh_process_each": not quick}
    groups = [[f] for f in files] if not quick else [files]
    for group in groups:
        m = measure([sys.executable, "-c", _PARSE_ONE, str(DAGS), *map(str, group)], env, "DAG parse")
        # the stdout may carry Airflow's own lines before the JSON
        data = json.loads(m["stdout"].strip().splitlines()[-1])
        out["airflow_import"].append(data["airflow_import"])
        for path, took in data["files"].items():
            out["files"][Path(path).name] = took
    return out


# ------------------------------------------------------------------ derived figures
def derive(r: dict) -> dict:
    d: dict = {}
    ff, fs = r["floor"]["full"], r["floor"]["small"]
    dn = ff["workbooks"] - fs["workbooks"]
    d["floor_per_wb"] = ff["seconds"] / ff["workbooks"]
    d["floor_marginal"] = (ff["seconds"] - fs["seconds"]) / dn if dn > 0 else None
    d["cells_per_wb"] = ff["cells"] / ff["workbooks"]
    cold = r["cold"]
    d["cold_intake"] = cold["timings"].get("intake")
    if "pcve_small" in r and d["cold_intake"] is not None:
        ps = r["pcve_small"]
        n = r["cold_workbooks"] - ps["files"]
        d["pcve_marginal"] = (d["cold_intake"] - ps["intake"]) / n if n > 0 else None
        if d["pcve_marginal"] is not None:
            d["pcve_fixed"] = ps["intake"] - ps["files"] * d["pcve_marginal"]
        it_full, it_small = cold.get("intake_timings") or {}, ps.get("timings") or {}
        d["pcve_marginal_parts"] = {k: (it_full[k] - it_small.get(k, 0.0)) / n for k in it_full
                                    if isinstance(it_full.get(k), (int, float)) and n > 0}
    if d.get("pcve_marginal") and d.get("floor_marginal"):
        d["marginal_ratio"] = d["pcve_marginal"] / d["floor_marginal"]
    parts = d.get("pcve_marginal_parts") or {}
    if "data_docs" in parts and d.get("floor_marginal"):
        # parse + validate + load alone: the intake step less the validation Data Docs site
        d["pcve_marginal_core"] = sum(v for k, v in parts.items() if k != "data_docs")
        d["marginal_core_ratio"] = d["pcve_marginal_core"] / d["floor_marginal"]
    nv = r["naive"]
    d["naive_intake"] = nv["startup_seconds"] + nv["per_workbook_seconds"] * r["cold_workbooks"]
    downstream = sum(cold["timings"].get(k, 0.0) for k in ("dbt_build", "publish", "exports"))
    d["naive_full"] = d["naive_intake"] + downstream  # the same dbt build and extracts after it
    if d["cold_intake"]:
        d["naive_ratio_intake"] = d["naive_intake"] / d["cold_intake"]
    d["naive_ratio_full"] = d["naive_full"] / cold["wall"]
    if "incremental" in r:
        d["incremental_share"] = r["incremental"]["wall"] / cold["wall"]
        d["noop_wall"] = r["noop"]["wall"]
        d["noop_dbt"] = r["noop"]["dbt_built"]
    return d


def _fmt_s(x) -> str:
    if x is None:
        return "n/a"
    if x < 0.1:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def _fmt_ms(x) -> str:
    return "n/a" if x is None else f"{x * 1000:.2f} ms"


def _fmt_mb(b) -> str:
    return "n/a" if b is None else f"{b / 2**20:.0f} MiB"


def _met(ok) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    vers = {}
    for pkg in ("duckdb", "great-expectations", "dbt-core", "dbt-duckdb", "apache-airflow", "python-calamine",
                "pandas", "openpyxl"):
        try:
            vers[pkg] = version(pkg)
        except PackageNotFoundError:
            vers[pkg] = "not installed"
    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "cpu": cpu, "memory": mem, "python": platform.python_version(), "platform": platform.platform(),
            "versions": vers, "commit": _commit()}


def _commit() -> str | None:
    """The code measured: HEAD, and whether the tree had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(REPO), capture_output=True,
                              text=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=str(REPO),
                                capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    # the report and its raw figures are what this run rewrites: not the code measured
    dirty = [ln[3:] for ln in status if ln[3:] not in ("BENCHMARKS.md", "bench/results/latest.json")]
    return (head + (f" with uncommitted changes to {', '.join(dirty[:5])}" if dirty else "")) if head else None


# ------------------------------------------------------------------ the report
def report(res: dict) -> str:
    a = res["args"]
    m = res["machine"]
    scales = res["scales"]
    base, big = scales["base"], scales.get("rows_x")
    db, dg = base["derived"], (big or {}).get("derived", {})
    largest = big or base
    L: list[str] = []
    w = L.append
    quick = " (`--quick` sanity run: tiny sizes, dbt build/publish/extracts skipped; not the real figures)" \
        if a["quick"] else ""
    w("# Benchmarks" + quick)
    w("")
    w(f"Measured {res['finished']} by `make bench` (`python -m bench.run`), one run, one process tree; "
      f"{a['offices']} offices x {a['years']} years = **{base['workbooks']:,} workbooks** "
      f"({base['cold_workbooks']:,} in the cold run, one held back for the incremental run), "
      f"at {base['rows_per_sheet']} and {largest['rows_per_sheet']} rows per sheet. Total bench time "
      f"{res['bench_seconds'] / 60:.1f} min.")
    w("")

    # ---- targets
    w("## Targets")
    w("")
    w("| target (issue 7) | measured | ratio / value | status |")
    w("| --- | --- | --- | --- |")
    rows_t = []
    for label, d in (("", db), (f" ({largest['rows_per_sheet']} rows/sheet)", dg)) if big else (("", db),):
        if d.get("marginal_ratio") is not None:
            rows_t.append((f"marginal intake cost per workbook <= {T_MARGINAL_X_FLOOR:g}x the floor's{label}",
                           f"pcve {_fmt_ms(d['pcve_marginal'])} vs floor {_fmt_ms(d['floor_marginal'])}",
                           f"{d['marginal_ratio']:.1f}x", d["marginal_ratio"] <= T_MARGINAL_X_FLOOR))
        if d.get("marginal_core_ratio") is not None:
            rows_t.append((f"the same, parse + validate + load only (Data Docs pages left out){label}",
                           f"pcve {_fmt_ms(d['pcve_marginal_core'])} vs floor {_fmt_ms(d['floor_marginal'])}",
                           f"{d['marginal_core_ratio']:.1f}x", d["marginal_core_ratio"] <= T_MARGINAL_X_FLOOR))
        if d.get("naive_ratio_intake") is not None:
            rows_t.append((f"cold run >= {T_NAIVE_X:g}x faster than naive: read+validate+load{label}",
                           f"naive {_fmt_s(d['naive_intake'])} (extrapolated) vs pcve intake "
                           f"{_fmt_s(d['cold_intake'])}", f"{d['naive_ratio_intake']:.1f}x",
                           d["naive_ratio_intake"] >= T_NAIVE_X))
            rows_t.append((f"cold run >= {T_NAIVE_X:g}x faster than naive: whole pipeline{label}",
                           f"naive + same dbt/extracts {_fmt_s(d['naive_full'])} vs pcve cold "
                           f"{_fmt_s(scales['base' if d is db else 'rows_x']['cold']['wall'])}",
                           f"{d['naive_ratio_full']:.1f}x", d["naive_ratio_full"] >= T_NAIVE_X))
        if d.get("incremental_share") is not None:
            s = scales["base" if d is db else "rows_x"]
            rows_t.append((f"incremental run (1 new workbook) <= {T_INCREMENTAL_SHARE:.0%} of cold{label}",
                           f"{_fmt_s(s['incremental']['wall'])} vs {_fmt_s(s['cold']['wall'])}",
                           f"{d['incremental_share']:.1%}", d["incremental_share"] <= T_INCREMENTAL_SHARE))
            rows_t.append((f"no-op run <= {T_NOOP_SECONDS:g} s wall and no dbt build{label}",
                           f"{_fmt_s(d['noop_wall'])}, dbt build {'ran' if d['noop_dbt'] else 'skipped'}",
                           f"{d['noop_wall']:.2f} s", d["noop_wall"] <= T_NOOP_SECONDS and not d["noop_dbt"]))
    def runs_peak(s: dict) -> dict:
        return {k: s[k].get("peak_tree", s[k]["peak_rss"]) for k in ("cold", "incremental", "noop") if k in s}

    sized = [(f" ({s['rows_per_sheet']} rows/sheet)" if k != "base" else "", s) for k, s in scales.items()]
    if res.get("large"):
        sized.append((f" ({res['large']['workbooks']:,} workbooks, --large)", res["large"]))
    for label, s in sized:
        pk = runs_peak(s)
        if "incremental" in pk and pk.get("cold"):
            share = pk["incremental"] / pk["cold"]
            rows_t.append((f"incremental run's peak memory <= {T_INCREMENTAL_MEMORY_SHARE:.0%} of the cold "
                           f"run's{label}", f"{_fmt_mb(pk['incremental'])} vs {_fmt_mb(pk['cold'])} (process "
                           "tree, summed PSS)", f"{share:.0%}", share <= T_INCREMENTAL_MEMORY_SHARE))
        rows_t.append((f"peak memory <= 1 GiB, every run{label}", ", ".join(f"{k} {_fmt_mb(v)}" for k, v in
                                                                          pk.items()),
                       _fmt_mb(max(pk.values())), max(pk.values()) <= T_PEAK_BYTES))
    if res.get("large"):
        lg = res["large"]
        label = f" at {lg['workbooks']:,} workbooks (--large)"
        rows_t.append((f"incremental run (1 new workbook) <= {T_INCREMENTAL_SHARE_LARGE:.0%} of cold{label}",
                       f"{_fmt_s(lg['incremental']['wall'])} vs {_fmt_s(lg['cold']['wall'])}",
                       f"{lg['incremental_share']:.1%}", lg["incremental_share"] <= T_INCREMENTAL_SHARE_LARGE))
        rows_t.append((f"no-op run <= {T_NOOP_SECONDS:g} s wall and no dbt build{label}",
                       f"{_fmt_s(lg['noop']['wall'])}, dbt build {'ran' if lg['noop']['dbt_built'] else 'skipped'}",
                       f"{lg['noop']['wall']:.2f} s", lg["noop"]["wall"] <= T_NOOP_SECONDS
                       and not lg["noop"]["dbt_built"]))
    g = res.get("growth", {})
    if g.get("intake_exponent") is not None:
        rows_t.append(("cost grows linearly with rows (exponent)", "marginal intake per workbook vs cells per "
                       "workbook", f"{g['intake_exponent']:.2f}", g["intake_exponent"] <= 1.1))
    dp = res["dags"]["files"]
    worst = max(dp.items(), key=lambda kv: kv[1]) if dp else ("-", None)
    rows_t.append((f"every DAG file parses in <= {T_DAG_SECONDS:g} s", f"slowest: {worst[0]}",
                   _fmt_s(worst[1]), worst[1] is not None and worst[1] <= T_DAG_SECONDS))
    if res.get("portal"):
        from bench.portal import T_WARM_P95_SECONDS

        pp = res["portal"]
        rows_t.append((f"office portal: warm check of a typical workbook <= {T_WARM_P95_SECONDS:g} s at p95 "
                       "(issue 18)", f"p95 of {len(pp['warm'])} checks; `pcve validate` cold p95 "
                       f"{_fmt_s(pp['cold_p95'])}", _fmt_s(pp["warm_p95"]), pp["warm_p95"] <= T_WARM_P95_SECONDS))
    for t, meas, ratio, ok in rows_t:
        w(f"| {t} | {meas} | {ratio} | {_met(ok)} |")
    w("")

    # ---- machine
    w("## Machine")
    w("")
    w(f"- CPU: {m['cpu']}, {m['nproc']} usable cores (nproc)")
    if m.get("loadavg_start") and res.get("loadavg_end"):
        w(f"- Load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in m['loadavg_start'])}, at end "
          f"{'/'.join(f'{x:.1f}' for x in res['loadavg_end'])}: other work on the machine during the run "
          "slows every figure alike; ratios from the same run are the robust numbers.")
    w(f"- Memory: {_fmt_mb(m['memory'])}" if m["memory"] else "- Memory: unknown")
    w(f"- OS: {m['platform']}")
    w(f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    if m.get("commit"):
        w(f"- Code measured: commit {m['commit']} (at the start of the run)")
    w("- Children run without PYTHONDONTWRITEBYTECODE (bytecode cached), embedded DuckDB warehouse, "
      "GX analytics off.")
    w("")

    # ---- workload
    w("## Workload")
    w("")
    w(f"`pcve.demo.write_synth` (seed {a['seed']}): Kazakh and Russian layouts, title and totals rows, ~3% "
      "broken workbooks (each an earlier rejected draft of a period that then arrives valid), monthly "
      "offices (generated regions, Almaty) and quarterly Turkistan; its config written by "
      "`write_synth_config` and passed as PCVE_CONFIG_DIR.")
    w("")
    w("| set | rows per sheet | workbooks | cells (floor) | cells per workbook |")
    w("| --- | --- | --- | --- | --- |")
    for key, s in scales.items():
        f = s["floor"]["full"]
        w(f"| {key} | {s['rows_per_sheet']} | {s['workbooks']:,} | {f['cells']:,} | "
          f"{f['cells'] / f['workbooks']:.0f} |")
    w("")
    w(f"The small set for the marginal cost: the first {len(base['small_offices'])} offices "
      f"({', '.join(base['small_offices'])}), {base['small_workbooks']} workbooks.")
    w("")

    # ---- figures
    w("## Figures")
    w("")
    w("Wall times of whole subprocesses (interpreter start-up included); pcve's steps from "
      "`pcve run --json` (`timings`).")
    w("")
    keys = list(scales)
    w("| figure | " + " | ".join(f"{scales[k]['rows_per_sheet']} rows/sheet" for k in keys) + " |")
    w("| --- | " + " | ".join("---" for _ in keys) + " |")

    def row(label, fn):
        vals = []
        for k in keys:
            try:
                vals.append(fn(scales[k]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("n/a")
        w(f"| {label} | " + " | ".join(vals) + " |")

    row("floor: all workbooks (read with calamine + append cells to DuckDB)",
        lambda s: f"{_fmt_s(s['floor']['full']['seconds'])} ({_fmt_ms(s['derived']['floor_per_wb'])}/workbook)")
    row("floor: marginal per workbook", lambda s: _fmt_ms(s["derived"]["floor_marginal"]))
    row("pcve cold run, wall", lambda s: _fmt_s(s["cold"]["wall"]))
    for step in ("rebuild", "intake", "dbt_build", "publish", "exports"):
        if any(step in s["cold"]["timings"] for s in scales.values()):
            row(f"&nbsp;&nbsp;step {step}", lambda s, st=step: _fmt_s(s["cold"]["timings"].get(st)))
    parts = sorted({p for s in scales.values() for p in s["cold"].get("intake_timings", {})})
    for p in parts:
        row(f"&nbsp;&nbsp;&nbsp;&nbsp;intake: {p}", lambda s, p=p: _fmt_s(s["cold"]["intake_timings"].get(p)))
    row("pcve cold run, peak memory of the process tree (summed PSS)", lambda s: _fmt_mb(s["cold"].get("peak_tree")))
    row("pcve cold run, peak RSS of its largest process", lambda s: _fmt_mb(s["cold"]["peak_rss"]))
    row("pcve cold run: accepted / rejected", lambda s: f"{s['cold']['accepted']} / {s['cold']['rejected']}")
    row("pcve incremental run (1 new workbook), wall", lambda s: _fmt_s(s["incremental"]["wall"]))
    row("pcve no-op run, wall", lambda s: _fmt_s(s["noop"]["wall"]))
    row("naive, per workbook (sampled)", lambda s: _fmt_ms(s["naive"]["per_workbook_seconds"]))
    row("naive, all workbooks (extrapolated)", lambda s: _fmt_s(s["derived"]["naive_intake"]))
    w("")

    # ---- marginal
    w("## Marginal intake cost")
    w("")
    w("Fixed start-up (imports, GX context, dbt) subtracted by difference: (full set - small set) / "
      "(workbooks difference), for the floor and for pcve's intake step (parse + validate + load, "
      "incl. sha256 and archive copy, ledger, receipts written back to the office, and GX Data Docs pages for "
      "the failed validations: `PCVE_DATA_DOCS=failed`, the default). The floor reads in one process; pcve "
      "reads and parses a batch of 64 or more workbooks in a pool of processes, one per usable CPU (here "
      f"{len(os.sched_getaffinity(0))}), and does the rest in one.")
    w("")
    w("| | " + " | ".join(f"{scales[k]['rows_per_sheet']} rows/sheet" for k in keys) + " |")
    w("| --- | " + " | ".join("---" for _ in keys) + " |")
    row("floor, marginal per workbook", lambda s: _fmt_ms(s["derived"]["floor_marginal"]))
    row("pcve intake, small set", lambda s: f"{_fmt_s(s['pcve_small']['intake'])} "
        f"({s['pcve_small']['files']} workbooks)")
    row("pcve intake, full set", lambda s: f"{_fmt_s(s['derived']['cold_intake'])} ({s['cold_workbooks']} workbooks)")
    row("pcve intake, marginal per workbook", lambda s: _fmt_ms(s["derived"]["pcve_marginal"]))
    row("pcve intake, fixed start-up (intercept)", lambda s: _fmt_s(s["derived"]["pcve_fixed"])
        if s["derived"]["pcve_fixed"] >= 0 else f"{_fmt_s(s['derived']['pcve_fixed'])}: below 0, i.e. the cost "
        "per workbook grows with what the home already holds (ledger re-read per load, Data Docs index, "
        "raw tables)")
    for p in sorted({p for s in scales.values() for p in s["derived"].get("pcve_marginal_parts", {})}):
        row(f"&nbsp;&nbsp;of which {p}", lambda s, p=p: _fmt_ms(s["derived"]["pcve_marginal_parts"][p]))
    row("ratio pcve / floor", lambda s: f"{s['derived']['marginal_ratio']:.1f}x")
    w("")

    # ---- naive
    w("## Naive approach")
    w("")
    w("`bench/naive.py`: pandas `read_excel` (openpyxl) per file, one GX validation per file and form, then "
      "the same raw-layer append. **Measured on a sample, extrapolated**: it is linear per file by "
      "construction, so it runs on an evenly spaced sample and the per-workbook cost is multiplied by the "
      "number of workbooks (plus its measured start-up).")
    w("")
    w("| | " + " | ".join(f"{scales[k]['rows_per_sheet']} rows/sheet" for k in keys) + " |")
    w("| --- | " + " | ".join("---" for _ in keys) + " |")
    row("sampled workbooks", lambda s: str(s["naive"]["sampled"]))
    row("start-up (imports, GX context)", lambda s: _fmt_s(s["naive"]["startup_seconds"]))
    row("per workbook", lambda s: _fmt_ms(s["naive"]["per_workbook_seconds"]))
    row("all workbooks, extrapolated", lambda s: _fmt_s(s["derived"]["naive_intake"]))
    row("ratio naive / pcve intake (raw layer both)", lambda s: f"{s['derived']['naive_ratio_intake']:.1f}x")
    row("naive + pcve's dbt/publish/extracts, extrapolated", lambda s: _fmt_s(s["derived"]["naive_full"]))
    row("ratio naive / pcve cold run (whole pipeline both)", lambda s: f"{s['derived']['naive_ratio_full']:.1f}x")
    w("")

    # ---- incremental
    w("## Incremental and no-op runs")
    w("")
    w("| | " + " | ".join(f"{scales[k]['rows_per_sheet']} rows/sheet" for k in keys) + " |")
    w("| --- | " + " | ".join("---" for _ in keys) + " |")
    row("cold run, wall", lambda s: _fmt_s(s["cold"]["wall"]))
    row("incremental (1 new workbook), wall", lambda s: _fmt_s(s["incremental"]["wall"]))
    for step in ("intake", "dbt_build", "publish", "exports"):
        row(f"&nbsp;&nbsp;step {step}", lambda s, st=step: _fmt_s(s["incremental"]["timings"].get(st)))
    row("incremental / cold", lambda s: f"{s['derived']['incremental_share']:.1%}")
    row("no-op, wall", lambda s: _fmt_s(s["noop"]["wall"]))
    for step in ("intake", "dbt_build", "publish", "exports"):
        row(f"&nbsp;&nbsp;step {step}", lambda s, st=step: _fmt_s(s["noop"]["timings"][st])
            if st in s["noop"]["timings"] else "skipped (not run)")
    row("no-op: dbt build", lambda s: "ran" if s["noop"]["dbt_built"] else
        f"skipped ({s['noop']['dbt_reason'] or 'unchanged'})")
    w("")

    # ---- memory and growth
    w("## Memory and growth with rows")
    w("")
    w("| | " + " | ".join(f"{scales[k]['rows_per_sheet']} rows/sheet" for k in keys) + " |")
    w("| --- | " + " | ".join("---" for _ in keys) + " |")
    row("pcve cold, peak memory (process tree, summed PSS)", lambda s: _fmt_mb(s["cold"].get("peak_tree")))
    row("pcve cold, peak RSS (largest process)", lambda s: _fmt_mb(s["cold"]["peak_rss"]))
    row("pcve incremental, peak memory (process tree, summed PSS)", lambda s: _fmt_mb(s["incremental"].get("peak_tree")))
    row("naive, peak RSS (sample)", lambda s: _fmt_mb(s["naive"]["peak_rss"]))
    row("cells per workbook", lambda s: f"{s['derived']['cells_per_wb']:.0f}")
    w("")
    if g:
        w(f"Growth exponent b in cost ∝ cells^b, from the two row sizes (cells per workbook x"
          f"{g['cells_ratio']:.2f}): pcve marginal intake per workbook b = {_num(g.get('intake_exponent'))}, "
          f"floor per workbook b = {_num(g.get('floor_exponent'))}, pcve cold wall b = "
          f"{_num(g.get('cold_exponent'))} (fixed costs included, so below 1).")
        pb = (base.get("derived") or {}).get("pcve_marginal_parts") or {}
        px = (dg or {}).get("pcve_marginal_parts") or {}
        per = [f"{k} {math.log(px[k] / pb[k]) / math.log(g['cells_ratio']):.2f}" for k in sorted(pb)
               if k in px and pb[k] > 0.0005 and px[k] > 0.0005 and g.get("cells_ratio", 1) > 1]
        if per:
            w("")
            w("Per part of the marginal intake cost: " + ", ".join(per) + ". Reading, parsing and validating "
              "grow with the cells; the per-file parts (archive, ledger, transaction, receipts, Data Docs "
              "pages) do not, so the total grows well below linearly; a part that looks cheaper at the larger "
              "size reflects the machine's load during the run, not the data.")
    else:
        w("Growth exponent: needs two row sizes.")
    w("")

    _profile_section(w, base)
    _large_section(w, res, a)
    # ---- DAGs
    _postgres_section(w, scales)
    w("## DAG parse times")
    w("")
    w("Each DAG file " + ("in a fresh subprocess" if res["dags"]["fresh_process_each"] else
                         "(--quick: all files in one subprocess)") + ": `airflow.sdk` imported first (the DAG "
      "processor has it loaded), then only the file's import is timed (`runpy.run_path`), including its "
      "`_common` and `pcve.app.pipeline` imports.")
    w("")
    w("| DAG file | parse | target |")
    w("| --- | --- | --- |")
    for f, took in sorted(dp.items()):
        w(f"| dags/{f} | {_fmt_s(took)} | {_met(took <= T_DAG_SECONDS)} |")
    ai = res["dags"]["airflow_import"]
    w("")
    w(f"(`airflow.sdk` import itself, not counted: {_fmt_s(min(ai))} to {_fmt_s(max(ai))}.)" if ai else "")
    w("")

    # ---- office portal
    w("## Office portal check")
    w("")
    if res.get("portal"):
        from bench.portal import report_lines

        L.extend(report_lines(res["portal"]))
    else:
        w(f"Not measured in this run ({res.get('portal_error') or 'no figures'}).")
    w("")

    # ---- gaps
    w("## Gaps and their causes")
    w("")
    gaps = [t for t in rows_t if t[3] is False]
    if not gaps:
        w("Every target is met.")
    for t, meas, ratio, _ in gaps:
        w(f"- **{t}**: {ratio} ({meas}). {_cause(t, res)}")
    if gaps:
        w("")
        w("Where the two sizes differ by more than the data explains (e.g. a step slower at the smaller "
          "size), the machine's load changed during the run (see Machine): compare ratios within a size.")
    w("")

    # ---- reproduce
    w("## How to reproduce")
    w("")
    w("```")
    w("make bench            # = .venv/bin/python -m bench.run  (writes BENCHMARKS.md at the repo root)")
    w(f"python -m bench.run --offices {a['offices']} --years {a['years']} --rows {a['rows']} --scale {a['scale']} "
      f"--naive-sample {a['naive_sample']} --out .")
    w("python -m bench.run --quick --out /tmp/x   # tiny sanity run (~1 min)")
    w("python -m bench.floor INBOX DB; python -m bench.naive INBOX DB SAMPLE   # the two baselines alone")
    w("```")
    w("")
    w("Raw figures of this run: `bench_results.json` in the work directory "
      f"(`{res['work']}`, removed unless `--keep`); the committed run's copy is `bench/results/latest.json`, "
      "from which `python -m bench.run --report-from bench/results/latest.json` writes this file again.")
    w("")
    return "\n".join(L)


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _profile_section(w, base: dict) -> None:
    w("## Profile of the incremental run")
    w("")
    pr = base.get("profile")
    if not pr or pr.get("error"):
        w(f"Not profiled in this run ({(pr or {}).get('error') or 'py-spy not run: --no-profile or --quick'}).")
        w("")
        return
    w(f"The base size's incremental run (1 new workbook) once more, on a copy of the home taken before it, "
      f"under `py-spy record -r {pr['rate']} --subprocesses` (samples of the busy threads of the run's "
      f"processes, `pcve run`, its dbt process and its workers: {pr['samples']:,} in all; shares of those "
      "samples, a function's share inclusive of what it calls; dbt's node threads run beside its main thread "
      "and the dbt process parses the project while the intake runs, so the shares can add up to more than "
      "the run).")
    w("")
    w("| part | share of the run |")
    w("| --- | --- |")
    for k, v in pr["steps"].items():
        w(f"| step {k} | {_pct(v)} |")
    w(f"| importing modules (any step: GX, dbt, pandas, ...) | {_pct(pr['imports'])} |")
    for k, v in (pr.get("dbt_parts") or {}).items():
        w(f"| dbt build: {k} | {_pct(v)} |")
    w("")
    for title, key in (("Heaviest functions, whole run", "top"), ("Inside the dbt build (its main thread)", "top_dbt"),
                       ("Inside dbt's node threads", "top_dbt_nodes"),
                       ("Inside the extracts step", "top_exports"),
                       ("Where the samples were taken (innermost frame: self time)", "self")):
        w(f"{title}:")
        w("")
        w("| function (file) | share |")
        w("| --- | --- |")
        for f, v in pr.get(key) or []:
            w(f"| `{f}` | {v:.1%} |")
        w("")


def _large_section(w, res: dict, a: dict) -> None:
    w("## Large home")
    w("")
    lg = res.get("large")
    if not lg:
        w("Not measured in this run: `python -m bench.run --large` adds a home of ten times the offices "
          "(~24,000 workbooks at the defaults; its cold, incremental and no-op runs only).")
        w("")
        return
    sep = lg.get("separate_run")
    w(f"{lg['offices']} offices x {lg.get('years', a['years'])} years = {lg['workbooks']:,} workbooks at {lg['rows_per_sheet']} "
      f"rows per sheet; DuckDB memory limit {lg.get('duckdb_memory_limit')}."
      + (f" Measured in a run of its own (`--large-only`, finished {sep['finished']}, commit "
         f"{sep['machine'].get('commit')}, load average at start "
         f"{'/'.join(f'{x:.1f}' for x in sep['machine'].get('loadavg_start') or [])}), merged here by "
         "`--report-from … --large-from …`." if sep else ""))
    w("")
    w("| run | wall | intake | dbt_build | publish | exports | peak memory (tree) |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    for k in ("cold", "incremental", "noop"):
        t = lg[k]["timings"]
        w(f"| {k} | {_fmt_s(lg[k]['wall'])} | " + " | ".join(
            _fmt_s(t[st]) if st in t else "skipped" for st in ("intake", "dbt_build", "publish", "exports"))
          + f" | {_fmt_mb(lg[k].get('peak_tree'))} |")
    w("")


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _cause(target: str, res: dict) -> str:
    """The measured breakdown behind a missed target (what the time went to)."""
    big = res["scales"].get("rows_x")
    base = big if big and "rows/sheet)" in target else res["scales"]["base"]
    if target.startswith(("marginal", "the same, parse")):
        parts = base["derived"].get("pcve_marginal_parts") or {}
        top = ", ".join(f"{k} {_fmt_ms(v)}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v > 0)
        return ("Per workbook the pipeline does more than read it: every cell is located, normalised (NFC, "
                "numbers, dates, territories, codes) and checked against the privacy rule in Python "
                "(read_parse, in a pool of processes, incl. sha256 and the archive copy); GX validates a whole "
                "batch per form and its results are mapped back to files and cells (validate); the batch is "
                "loaded in one transaction and each file gets its receipt or error report written back to the "
                "office as a file of its own (load); failed validations get GX Data Docs pages (data_docs). "
                "At 10 rows per sheet the per-file parts weigh most; at 100 rows the per-cell parts, where the "
                f"ratio to the floor is lower. Marginal parts: {top or 'n/a'}.")
    if "naive" in target:
        t = base["cold"]["timings"]
        down = sum(t.get(k, 0.0) for k in ("dbt_build", "publish", "exports"))
        return ("The naive per-workbook cost is dominated by openpyxl and ~3-4 GX validations per file; in the "
                f"whole-pipeline ratio the dbt build, publish and extracts ({_fmt_s(down)} of pcve's "
                f"{_fmt_s(base['cold']['wall'])}: dbt {_fmt_s(t.get('dbt_build'))}, extracts "
                f"{_fmt_s(t.get('exports'))}) are added unchanged to both sides and cap it. The extracts are "
                "rendered in this process: parallel render workers are started only within "
                "PCVE_MEMORY_BUDGET_MB (1024 by default), which the process already nearly fills at this size.")
    exports_why = ("The extracts step decides which periods changed from SQL digests of each period's rows "
                   "(no row read), then reads and renders only those: the new workbook's quarter and year, and "
                   "later periods whose report charts show them.")
    if "peak memory" in target:
        return _memory_cause(target, res)
    if "--large" in target:
        base = res["large"]
    if target.startswith("incremental"):
        inc = base.get("incremental", {}).get("timings", {})
        floor = inc.get("intake", 0.0) + inc.get("dbt_build", 0.0)
        cold = base.get("cold", {}).get("wall")
        pr = res["scales"]["base"].get("profile") or {}
        prof = ""
        if pr.get("steps"):
            parts = pr.get("dbt_parts") or {}
            prof = (f" The profile of this run (section Profile of the incremental run, py-spy) puts "
                    f"{_pct(pr['steps'].get('dbt_build'))} of its samples in the dbt build (" + ", ".join(
                        f"{k} {_pct(v)}" for k, v in parts.items()) + f") and {_pct(pr['steps'].get('intake'))} in "
                    f"the intake step (module imports {_pct(pr.get('imports'))} of the whole run, GX's above all); "
                    f"the extracts {_pct(pr['steps'].get('exports'))}.")
        wh = base.get("incremental", {}).get("warehouse") or {}  # absent in results of older runs
        nodes = (f"{wh.get('models')} models and {wh.get('data_tests')} data tests"
                 if wh.get("models") is not None else "the selected nodes")
        return (f"The floor is what one new workbook costs before any of its own work: the intake step "
                f"({_fmt_s(inc.get('intake'))}: the interpreter, then the GX context, whose import of ~2,000 modules "
                f"is ~3-5 s however few files are validated; dbt is imported and the project parsed meanwhile "
                f"in a second process) and the dbt build of the nodes downstream of the changed raw tables "
                f"({_fmt_s(inc.get('dbt_build'))}: {nodes}; the heavy models are incremental (int_form_measures "
                f"and the form facts by submission, mart_indicator_values by office) and views are left in place, "
                f"but each model and test node still costs 25-60 ms of dbt's Python however small its query, and "
                f"one new workbook changes seven raw tables, so every data test downstream of them runs). Those "
                f"two alone are {_fmt_s(floor)}" + (f", {floor / cold:.0%} of the cold run" if cold else "")
                + f"; the publish copy ({_fmt_s(inc.get('publish'))}) and the extracts ({_fmt_s(inc.get('exports'))}: "
                "a period's extract holds every office, so one workbook re-renders its month, quarter and year "
                "for all of them) come on top. " + exports_why + prof + " Lowering the floor further means fewer "
                "dbt nodes (tests folded per model, or run only on the changed offices' rows) or keeping GX and dbt "
                "loaded between runs (a resident worker), not the Python around them.")
    if target.startswith("no-op"):
        noop = base.get("noop", {})
        return ("The no-op run did no dbt build " + ("" if not noop.get("dbt_built") else "(but it did) ")
                + "; its steps: " + ", ".join(f"{k} {_fmt_s(v)}" for k, v in noop.get("timings", {}).items())
                + ". " + exports_why)
    if target.startswith("peak"):
        return ("The pipeline runs in one process (plus short-lived parser and render workers): GX and its "
                "imports (~250 MiB) and the intake's batch stay resident while `dbt build` runs DuckDB in the same "
                "process; the build's largest query (the union of every form row, `int_form_measures`) needs "
                "~300 MiB at this size, and DuckDB's memory is bounded by PCVE_DUCKDB_MEMORY_LIMIT (384MB). "
                "Running dbt in its own process would not lower the sum while the parent holds GX.")
    if target.startswith("every DAG"):
        return "The slowest file's import includes `_common` and `pcve.app.pipeline` and what they import."
    if target.startswith("cost grows"):
        return "Superlinear in cells per workbook between the two sizes."
    return ""


def _memory_cause(target: str, res: dict) -> str:
    big = res["scales"].get("rows_x")
    s = res["large"] if "--large" in target else big if big and "rows/sheet)" in target else res["scales"]["base"]
    steps = {k: s[k].get("peak_steps") or {} for k in ("cold", "incremental") if k in s}
    where = "; ".join(f"{k}: " + ", ".join(f"{st} {v} MiB" for st, v in p.items()) for k, p in steps.items())
    return ("An incremental run's peak is set by what it loads, not the data it reads: the GX import (~250 MiB, "
            "only when a file is validated) in the main process, beside it the second process in which dbt is "
            "imported, the project parsed and the build run (~200-300 MiB with DuckDB's buffers); the extracts "
            "read the rows of the periods they render only. A cold run's peak grows with the history where "
            "DuckDB sorts and joins every row (bounded by PCVE_DUCKDB_MEMORY_LIMIT) and the extracts render "
            "windows of periods in worker processes. Peak RSS of the main process as each step ended (MiB, "
            f"cumulative; the dbt process is not in it): {where or 'n/a'}.")


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--offices", type=int, default=20)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--rows", type=int, default=10, help="rows per sheet of the base size")
    p.add_argument("--scale", type=int, default=10, help="the second size: this many times the rows per sheet")
    p.add_argument("--naive-sample", type=int, default=30)
    p.add_argument("--small-offices", type=int, default=2, help="offices of the small set (marginal cost)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=REPO, help="folder for BENCHMARKS.md")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--quick", action="store_true", help="a tiny sanity run (for tests), not the real figures")
    p.add_argument("--postgres", metavar="URL", default=os.getenv("PCVE_BENCH_POSTGRES") or None,
                   help="also run the cold/incremental/no-op runs with the warehouse on this PostgreSQL server "
                        "(a fresh database per size; the role needs CREATEDB), e.g. $(scripts/start-postgres.sh)")
    p.add_argument("--large", action="store_true",
                   help="also a home of ten times the offices (~24,000 workbooks): cold, incremental, no-op runs")
    p.add_argument("--large-offices", type=int, default=None, help="offices of the --large home (default 10x)")
    p.add_argument("--large-only", type=Path, metavar="JSON",
                   help="only the --large home's runs, their figures written to this JSON file (no BENCHMARKS.md)")
    p.add_argument("--large-from", type=Path, metavar="JSON",
                   help="with --report-from: the --large figures of a --large-only run on the same commit")
    p.add_argument("--no-profile", dest="profile", action="store_false",
                   help="do not profile the incremental run with py-spy")
    p.add_argument("--report-from", type=Path, metavar="JSON",
                   help="only write BENCHMARKS.md again from a run's bench_results.json")
    p.add_argument("--child-intake", help=argparse.SUPPRESS)
    p.add_argument("--child-run-nodbt", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.report_from:
        res = json.loads(a.report_from.read_text(encoding="utf-8"))
        if a.large_from:
            large = json.loads(a.large_from.read_text(encoding="utf-8"))
            res["large"] = {**large["large"], "separate_run": {k: large[k] for k in ("finished", "machine")}}
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "BENCHMARKS.md").write_text(report(res), encoding="utf-8")
        return 0
    if a.large_only:
        work = a.work or Path(tempfile.mkdtemp(prefix="pcve-bench-large-"))
        try:
            res = {"machine": machine(), "large": bench_large(work, a)}
            res["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            a.large_only.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
        finally:
            if not a.keep and a.work is None:
                shutil.rmtree(work, ignore_errors=True)
        return 0
    if a.child_intake:
        _child_intake(a.child_intake)
        return 0
    if a.child_run_nodbt:
        _child_run_nodbt(a.child_run_nodbt)
        return 0
    if a.quick:
        a.offices, a.years, a.rows, a.scale, a.naive_sample, a.small_offices = 2, 1, 5, 3, 2, 1
        a.profile = False
    t0 = time.perf_counter()
    work = a.work or Path(tempfile.mkdtemp(prefix="pcve-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()
                          if not k.startswith("child")},
                 "machine": machine(), "work": str(work), "scales": {}}
    try:
        sizes = [("base", a.rows, True), ("rows_x", a.rows * a.scale, not a.quick)]
        for name, rows, full in sizes:
            sample = a.naive_sample if name == "base" else max(2, a.naive_sample // 2)
            r = bench_scale(work, name, a, rows, sample, full)
            r["derived"] = derive(r)
            res["scales"][name] = r
        b, x = res["scales"]["base"], res["scales"].get("rows_x")
        if x:
            cr = x["derived"]["cells_per_wb"] / b["derived"]["cells_per_wb"]
            g = {"cells_ratio": cr}

            def expo(v1, v2):
                return math.log(v2 / v1) / math.log(cr) if v1 and v2 and cr > 1 else None

            g["intake_exponent"] = expo(b["derived"].get("pcve_marginal"), x["derived"].get("pcve_marginal"))
            g["floor_exponent"] = expo(b["derived"]["floor_per_wb"], x["derived"]["floor_per_wb"])
            g["cold_exponent"] = expo(b["cold"]["wall"], x["cold"]["wall"])
            res["growth"] = g
        if a.large:
            res["large"] = bench_large(work, a)
        _log("DAG parse times")
        res["dags"] = dag_parse(work, a.quick)
        _log("office portal: warm check vs cold pcve validate")
        try:
            from bench.portal import measure_portal

            res["portal"] = measure_portal(work / "portal", child_env(), a.quick)
        except Exception as exc:  # the other figures stand; the report says why this one is missing
            res["portal_error"] = f"{type(exc).__name__}: {exc}"[:300]
        res["bench_seconds"] = time.perf_counter() - t0
        res["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
        res["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        (work / "bench_results.json").write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
        a.out.mkdir(parents=True, exist_ok=True)
        out = a.out / "BENCHMARKS.md"
        out.write_text(report(res), encoding="utf-8")
        _log(f"wrote {out} ({res['bench_seconds'] / 60:.1f} min)")
    finally:
        if not a.keep and a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
