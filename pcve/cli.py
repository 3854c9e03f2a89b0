"""The `pcve` command: the same library functions the Airflow DAGs call.

Exit codes: 0 done (even when some files were rejected: that is a normal
outcome, reported); 1 the pipeline itself failed; 2 usage error; 3 another run
holds the home; 4 `pcve validate` found errors in the file; 5 the command did
only part of its work: `pcve export` wrote nothing (every period asked for was
skipped: it says why), or `pcve run` did everything else but an office's source
could not be read (unreachable: run again later; refused: fix its credentials).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

EXIT_FAILED, EXIT_LOCKED, EXIT_INVALID, EXIT_NOTHING = 1, 3, 4, 5
EXIT_SOURCE = EXIT_NOTHING  # `pcve run`: part of the work not done, as `pcve export` writing nothing


def _console(stderr: bool = False):
    from rich.console import Console

    c = Console(stderr=stderr, highlight=False)
    if not c.is_terminal:  # piped: plain lines, no wrapping at 80 columns
        c = Console(stderr=stderr, highlight=False, width=250, soft_wrap=True, no_color=True)
    return c


def _emit(data, as_json: bool, render) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


def _fail(msg: str, code: int = EXIT_FAILED):
    click.echo(f"pcve: {msg}", err=True)
    sys.exit(code)


def _guard(fn):
    """Turn expected failures into clear messages and meaningful exit codes."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        from pcve.home import HomeLocked

        try:
            return fn(*a, **kw)
        except HomeLocked as exc:
            _fail(str(exc), EXIT_LOCKED)
        except KeyboardInterrupt:
            _fail("interrupted; re-run the same command: it resumes where it stopped", EXIT_FAILED)
        except click.ClickException:
            raise
        except Exception as exc:  # the message must say what to do; the traceback goes to the log
            logging.getLogger("pcve").debug("failure", exc_info=True)
            _fail(f"{type(exc).__name__}: {exc}\n(re-run with PCVE_DEBUG=1 for the traceback)")

    return wrapper


#: The words of `pcve validate` and `pcve status` for people, by --lang (the rules' messages are in
#: ingest/messages.py, in the same three languages).
UI = {
    "period": {"en": "period", "kk": "кезең", "ru": "период"},
    "submission": {"en": "submission", "kk": "есеп №", "ru": "отчёт №"},
    "file": {"en": "file", "kk": "файл", "ru": "файл"},
    "received": {"en": "received", "kk": "алынды", "ru": "получен"},
    "status": {"en": "status", "kk": "күйі", "ru": "статус"},
    "why": {"en": "why", "kk": "себебі", "ru": "причина"},
    "accepted": {"en": "accepted", "kk": "қабылданды", "ru": "принят"},
    "rejected": {"en": "rejected", "kk": "қабылданбады", "ru": "отклонён"},
    "superseded": {"en": "superseded", "kk": "ауыстырылды", "ru": "заменён"},
    "duplicate": {"en": "duplicate", "kk": "қайталанған", "ru": "повтор"},
    "voided": {"en": "voided", "kk": "күші жойылды", "ru": "отозван"},
    "month": {"en": "monthly", "kk": "ай сайын", "ru": "ежемесячно"},
    "quarter": {"en": "quarterly", "kk": "тоқсан сайын", "ru": "ежеквартально"},
    "missing": {"en": "missing", "kk": "жетіспейді", "ru": "не получены"},
    "overdue": {"en": "overdue", "kk": "мерзімі өткен", "ru": "просрочено"},
    "nothing_missing": {"en": "nothing missing", "kk": "бәрі алынды", "ru": "всё получено"},
    "error": {"en": "error", "kk": "қате", "ru": "ошибка"},
    "warning": {"en": "warning", "kk": "ескерту", "ru": "предупреждение"},
    "validated": {
        "en": "{file}: period {period}, rows {rows}, {errors} error(s), {warnings} warning(s)",
        "kk": "{file}: кезең {period}, жолдар {rows}, қателер: {errors}, ескертулер: {warnings}",
        "ru": "{file}: период {period}, строк {rows}, ошибок: {errors}, предупреждений: {warnings}",
    },
}
LANGS = ("en", "kk", "ru")


def _t(key: str, lang: str) -> str:
    return UI.get(key, {}).get(lang) or UI.get(key, {}).get("en") or key


lang_option = click.option("--lang", type=click.Choice(LANGS), default=None,
                           help="Language of the human output (default: validate the office's, status English).")

home_option = click.option(
    "--home", "home", type=click.Path(file_okay=False, path_type=Path), envvar="PCVE_HOME", default="demo",
    show_default=True, help="Pipeline home: inbox/, archive/, warehouse.duckdb, exports/ … (env PCVE_HOME).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for machines.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="pcve-warehouse")
def main(verbose: int) -> None:
    """pcve: office workbooks → validated warehouse → ministry extracts.

    Start with `pcve demo --home demo/`, then `pcve status --home demo/`.
    """
    level = logging.WARNING - 10 * verbose if not os.getenv("PCVE_DEBUG") else logging.DEBUG
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.root.handlers:
        handler.addFilter(_one_line)
    for noisy in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# Control characters and bidi overrides escaped in every log message: an office's file name such as
# "x\n\x1b[2JERROR forged.xlsx" must not forge a log line or drive the terminal (any library's log).
_ESCAPES = {c: f"\\x{c:02x}" for c in range(32) if c != 9} | {0x7F: "\\x7f", 10: "\\n", 13: "\\r"} | {
    c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _one_line(record: logging.LogRecord) -> bool:
    from ingest.privacy import mask

    message = record.getMessage()
    # and IIN-shaped numbers and phones masked, whoever logs them (fsspec logs the paths it opens)
    inert = mask(message).translate(_ESCAPES)
    if inert != message:
        record.msg, record.args = inert, ()
    return True


class Phases:
    """The phases of a run named as they start (pcve.pipeline.PHASES): on a terminal a bar per
    phase (files read, where counted), piped one line per phase on stderr, with --json nothing."""

    def __init__(self, as_json: bool):
        import time

        self._clock = time.monotonic
        self.console = _console(stderr=True)
        self.quiet = as_json
        self.live = not as_json and self.console.is_terminal
        self.task = None
        self.t0 = self._clock()
        self.progress = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=self.console)

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        self._finish()
        if self.progress:
            self.progress.stop()

    def phase(self, name: str, total: int | None = None) -> None:
        self._finish()
        if self.progress:
            self.task = self.progress.add_task(name, total=total)
        elif not self.quiet:
            count = f": {total} file(s)" if total is not None else ""
            self.console.print(f"[{self._clock() - self.t0:6.1f}s] {name}{count}")

    def advance(self, n: int = 1) -> None:
        if self.progress and self.task is not None:
            self.progress.advance(self.task, n)

    def _finish(self) -> None:
        if self.progress and self.task is not None:
            t = next(t for t in self.progress.tasks if t.id == self.task)
            done = t.completed if t.total is None else t.total
            self.progress.update(self.task, total=max(done, 1), completed=max(done, 1))
            self.progress.stop_task(self.task)  # its elapsed time stays as it finished
        self.task = None


def _render_run(summary: dict) -> None:
    c = _console()
    intake = summary["intake"]
    c.print(f"[bold]Intake[/bold]: {intake['files']} new file(s)")
    for office, o in intake["offices"].items():
        if err := o.get("source_error"):
            what = "run again later" if err["transient"] else "fix its connection settings"
            c.print(f"  {office}: [red]source not read[/red] ({what}): {err['message']}")
            continue
        c.print(f"  {office}: {len(o['accepted'])} accepted, {len(o['rejected'])} rejected, "
                f"{len(o['duplicate'])} duplicate")
        for r in o["rejected"]:
            c.print(f"    [red]rejected[/red] {r['file']}: {r['errors']} error(s) ({', '.join(r['rules'])})")
    w = summary["warehouse"]
    c.print(f"[bold]Warehouse[/bold]: {'built' if w.get('built') else 'unchanged, no dbt build'}"
            + (f" ({w.get('reason')})" if w.get("reason") else ""))
    e = summary["exports"]
    written = e.get("written", [])
    c.print(f"[bold]Extracts[/bold]: {len(written)} written, {len(e.get('unchanged', []))} unchanged")
    for wr in written:
        if isinstance(wr, dict):
            c.print(f"  exports/{wr.get('period')} (revision {wr.get('revision')})")
        else:
            c.print(f"  exports/{wr}")


@main.command()
@home_option
@json_option
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="If another run holds the home: wait for it, or exit with code 3.")
@_guard
def run(home: Path, as_json: bool, wait: bool) -> None:
    """Run the whole pipeline in-process: pull new files from every office's source,
    validate, load, dbt build, publish the analysts' snapshot, write extracts."""
    from pcve import pipeline
    from pcve.home import Home

    h = Home.at(home).ensure()
    with h.writer_lock(wait=wait), Phases(as_json) as phases:
        summary = pipeline.run(h.root, progress=phases.advance, phase=phases.phase)
    _emit(summary, as_json, _render_run)
    if summary["intake"].get("source_errors"):
        sys.exit(EXIT_SOURCE)


@main.command()
@home_option
@json_option
@click.option("--in-process", is_flag=True, help="Run the pipeline in-process instead of through Airflow.")
@_guard
def demo(home: Path, as_json: bool, in_process: bool) -> None:
    """Write the demo submissions into HOME/inbox/ and run the pipeline through
    Airflow (`airflow dags test` on an embedded SQLite metadata DB under HOME/airflow/)."""
    from pcve.demo import write_demo
    from pcve.home import Home

    h = Home.at(home).ensure()
    files = write_demo(h.inbox)
    c = _console(stderr=True)
    if not as_json:
        c.print(f"wrote {len(files)} demo workbook(s) into {h.inbox}")
    if in_process:
        from pcve import pipeline

        with Phases(as_json) as phases:
            summary = pipeline.run(h.root, progress=phases.advance, phase=phases.phase)
    else:
        from pcve.airflow_runner import DAG_PHASES, run_pipeline_via_airflow

        if not as_json:
            c.print("running the DAGs office_intake → warehouse_build → ministry_extract with `airflow dags test` …")
        with Phases(as_json) as phases:
            summary = {"airflow": run_pipeline_via_airflow(
                h.root, progress=lambda dag_id: phases.phase(f"{DAG_PHASES[dag_id]} ({dag_id})"))}
    from pcve.status import status as _status

    st = _status(h.root)
    summary["status"] = {o: v["counts"] for o, v in st["offices"].items()}
    summary["exports"] = sorted(p.name for p in h.exports.iterdir() if not p.name.startswith("."))

    def render(s):
        out = _console()
        for o, counts in s["status"].items():
            out.print(f"{o}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
        out.print(f"extracts in {h.exports}: {', '.join(s['exports'])}")
        out.print(f"next: pcve status --home {home}   ·   ls {h.exports}/2017")

    _emit(summary, as_json, render)


@main.command()
@home_option
@json_option
@click.option("--office", help="Only this office.")
@click.option("--all-missing", is_flag=True, help="List every missing period instead of a summary.")
@lang_option
@_guard
def status(home: Path, as_json: bool, office: str | None, all_missing: bool, lang: str | None) -> None:
    """Per office and period: received, accepted, rejected (with why), superseded, missing."""
    from pcve.status import status as _status

    rep = _status(home)
    if office:
        if office not in rep["offices"]:
            raise click.BadParameter(f"unknown office {office!r}; known: {', '.join(rep['offices'])}")
        rep["offices"] = {office: rep["offices"][office]}

    lang = lang or "en"
    names = {}
    if lang != "en":
        from pcve.config import load_config

        cfg = load_config()
        names = {c: (o.name_kk if lang == "kk" else o.name_ru) for c, o in cfg.offices.items()}

    def render(r):
        from rich.markup import escape
        from rich.table import Table

        c = _console()
        for code, o in r["offices"].items():
            name = names.get(code) or o["name"]
            t = Table(title=escape(f"{code}: {name} ({_t(o['periodicity'], lang)})"), title_justify="left")
            for col in ("period", "submission", "file", "received", "status", "why"):
                t.add_column(_t(col, lang))
            for period, p in o["periods"].items():
                for s in p["received"]:
                    why = ", ".join(s["rules"]) if s["status"] == "rejected" else ""
                    style = {"rejected": "red", "superseded": "dim", "accepted": "green"}.get(s["status"], "")
                    word = _t(s["status"], lang)
                    t.add_row(escape(period), s["submission_id"], escape(s["file"]), s["received_at"],
                              f"[{style}]{word}[/{style}]" if style else word, escape(why))
            c.print(t)
            miss = o["missing"]
            if miss:
                tokens = [m["period"] for m in miss]
                shown = tokens if all_missing or len(tokens) <= 8 else tokens[:3] + ["…"] + tokens[-3:]
                c.print(escape(f"  {_t('missing', lang)} ({len(tokens)}): {', '.join(shown)}"
                               f"  [{_t('overdue', lang)}: {sum(m['overdue'] for m in miss)}]"))
            else:
                c.print(f"  {_t('nothing_missing', lang)}")

    _emit(rep, as_json, render)


@main.command()
@home_option
@json_option
@click.option("--period", "periods", multiple=True, required=True, help="2017, 2017Q1 or 2017-Q1 (repeatable).")
@click.option("--profile", type=click.Choice(["ministry", "public"]), default="ministry", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Base folder (default HOME/exports, or HOME/exports/public for the public profile; "
                   "HOME/provisional with --provisional).")
@click.option("--provisional", is_flag=True,
              help="A period not complete yet: every file marked provisional, written to HOME/provisional/, "
                   "never delivered to the ministry and never a revision of a final extract.")
@_guard
def export(home: Path, as_json: bool, periods: tuple[str, ...], profile: str, out: Path | None,
           provisional: bool) -> None:
    """Write the extract of given period(s) on demand.

    Exits 5 when nothing was written or found up to date (each skipped period says why)."""
    from pcve import pipeline

    summary = pipeline.export(home, periods=list(periods), profile=profile, out=out, provisional=provisional)
    _emit(summary, as_json, _render_export)
    if not summary.get("written") and not summary.get("unchanged"):
        sys.exit(EXIT_NOTHING)


def _render_export(s: dict) -> None:
    c = click  # plain lines: periods and reasons are data, never markup
    kind = "provisional extract" if s.get("provisional") else "extract"
    for w in s.get("written", []):
        changes = "" if w.get("changes") is None else f", {w['changes']} changed value(s) in CHANGES.csv"
        c.echo(f"written   {w['period']}: {kind} revision {w['revision']} ({', '.join(w['offices'])}; "
                f"{w['rows']} rows{changes}) → {s['base']}/{w['period']}")
    for u in s.get("unchanged", []):
        c.echo(f"unchanged {u['period']}: revision {u['revision']} is current → {s['base']}/{u['period']}")
    for k in s.get("skipped", []):
        missing = "; ".join(f"{o} misses {', '.join(m)}" for o, m in (k.get("missing") or {}).items())
        c.echo(f"skipped   {k['period']}: {k['reason']}{' (' + missing + ')' if missing else ''}")
        if k.get("reason") == "no office is complete" and not s.get("provisional"):
            c.echo(f"          a provisional extract: pcve export --period {k['period']} --provisional")
    for d in s.get("delivery", []):
        c.echo(f"delivery  {d.get('period')}: {d.get('status')} {d.get('location', '')}")
    if not s.get("written") and not s.get("unchanged"):
        c.echo("nothing written")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", required=True, help="The office the file would come from.")
@json_option
@lang_option
@_guard
def validate(file: Path, office: str, as_json: bool, lang: str | None) -> None:
    """Dry-run one file through parsing and the GX suites; nothing is stored.

    Exit code 4 when the file would be rejected."""
    from pcve.check import check_file
    from pcve.config import load_config

    cfg = load_config()
    if office not in cfg.offices:
        raise click.BadParameter(f"unknown office {office!r}; known: {', '.join(cfg.offices)}")
    data = check_file(office, file, cfg=cfg)  # the portal's check too: intake's parser, privacy gate, GX
    lang = lang or cfg.offices[office].language

    def render(d):
        # plain lines: file names, cells and messages are data, never console markup
        rows = ", ".join(f"{form} {n}" for form, n in d["rows"].items()) or "0"
        click.echo(_t("validated", lang).format(file=d["file"], period=d["period"], rows=rows,
                                                errors=d["errors"], warnings=d["warnings"]))
        for r in d["issues"]:
            click.echo(f"  {_t(r['severity'], lang):14} {r['cell'] or '-':24} {r['rule']:22} {r['message_' + lang]}")

    _emit(data, as_json, render)
    if data["errors"]:
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("submission_id")
@home_option
@json_option
@click.option("--reason", default="", help="Why it is withdrawn (kept in the ledger).")
@_guard
def void(submission_id: str, home: Path, as_json: bool, reason: str) -> None:
    """Withdraw an accepted submission (e.g. S000042): its period falls back to the
    submission that was current before. Recorded in the ledger; run `pcve run` after."""
    from ingest.intake import void as _void

    try:
        res = _void(home, submission_id, reason)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    _emit(res, as_json, lambda r: click.echo(f"voided {r['voided']} ({r['office']} {r['period']}, {r['file']}); "
                                             "now run `pcve run` to rebuild and re-export"))


@main.command()
@click.argument("quarantined", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@home_option
@json_option
@_guard
def requeue(quarantined: Path, home: Path, as_json: bool) -> None:
    """Process a quarantined file again, after a fix to the pipeline (not to the file:
    a corrected file is simply sent again by the office)."""
    from ingest.intake import requeue as _requeue

    try:
        res = _requeue(home, quarantined)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    _emit(res, as_json, lambda r: click.echo(
        f"requeued {r['requeued']}: {len(r['accepted'])} accepted, {len(r['rejected'])} rejected"))


@main.command()
@home_option
@json_option
@click.option("--days", type=int, default=None, help="Retention in days (default env PCVE_PRIVACY_RETENTION_DAYS or 90).")
@_guard
def purge(home: Path, as_json: bool, days: int | None) -> None:
    """Delete files rejected under the privacy rule after their retention period."""
    from ingest.intake import purge_privacy_quarantine

    res = purge_privacy_quarantine(home, days)
    _emit({"purged": res}, as_json, lambda r: click.echo(f"purged {len(r['purged'])} file(s)"))


@main.command()
@home_option
@json_option
@click.option("--check", "check_only", is_flag=True, help="Only say whether the warehouse agrees with the ledger (exit 1 if not).")
@_guard
def rebuild(home: Path, as_json: bool, check_only: bool) -> None:
    """Rebuild the warehouse from the archive and the ledger (after damage or loss),
    then dbt build, publish and re-export: the extracts come out the same."""
    from ingest.rebuild import check_warehouse
    from pcve import pipeline

    problem = check_warehouse(home)
    if check_only:
        _emit({"ok": problem is None, "problem": problem}, as_json,
              lambda r: click.echo("warehouse agrees with the ledger" if r["ok"] else f"damaged: {r['problem']}"))
        sys.exit(0 if problem is None else EXIT_FAILED)
    summary = pipeline.rebuild(home)
    summary["reason"] = problem or "requested"
    _emit(summary, as_json, lambda s: click.echo(
        f"rebuilt {s['raw']['submissions']} submission(s) from the archive ({s['reason']}); "
        f"extracts: {len(s['exports'].get('written', []))} written, {len(s['exports'].get('unchanged', []))} unchanged"))


@main.command()
@click.option("--office", required=True, help="Office code (see config/offices.yml).")
@click.option("--period", required=True, help="Submission period: 2017-03 (monthly) or 2025-Q3 (quarterly).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder to write the workbook into.")
@_guard
def template(office: str, period: str, out: Path) -> None:
    """Write a blank workbook for an office and period, in the office's language, with
    every sheet and header of the contract and dropdowns, so a clerk can hardly go wrong."""
    from ingest.template import template_file_name, write_template
    from pcve.config import load_config
    from pcve.periods import parse_period

    cfg = load_config()
    if office not in cfg.offices:
        raise click.BadParameter(f"unknown office {office!r}; known: {', '.join(cfg.offices)}")
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if p.kind != cfg.offices[office].periodicity:
        raise click.BadParameter(f"{office} reports by {cfg.offices[office].periodicity}; {period} is a {p.kind}")
    out.mkdir(parents=True, exist_ok=True)
    path = write_template(cfg, office, p, out / template_file_name(cfg, office, p))
    click.echo(str(path))


@main.command()
@home_option
@click.option("--offices", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Offices: almaty, turkistan, then generated regions (monthly, Kazakh or Russian).")
@click.option("--years", type=click.IntRange(1, 50), default=10, show_default=True,
              help="Years of submissions, ending with --last-year.")
@click.option("--rows-per-sheet", "rows", type=click.IntRange(1, 100_000), default=10, show_default=True,
              help="Events rows per sheet (other forms scale with it, capped by their keys).")
@click.option("--last-year", type=click.IntRange(2000, 2100), default=2024, show_default=True)
@click.option("--bad-share", type=click.FloatRange(0, 1), default=0.03, show_default=True,
              help="Share of extra broken workbooks (each an earlier draft of a period that then arrives valid).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same files, byte for byte.")
@json_option
@_guard
def synth(home: Path, offices: int, years: int, rows: int, last_year: int, bad_share: float, seed: int,
          as_json: bool) -> None:
    """Write realistic synthetic submissions (the benchmark's workload) into HOME/inbox/ and the
    configuration of their offices and territories into HOME/config/.

    Run them with: PCVE_CONFIG_DIR=HOME/config pcve run --home HOME"""
    from pcve.demo import write_synth, write_synth_config

    inbox = home / "inbox"
    if inbox.exists() and any(inbox.iterdir()):
        raise click.UsageError(f"{inbox} is not empty: choose a new --home (synth never mixes with real files)")
    res = write_synth(inbox, offices, years, rows, seed, bad_share=bad_share, last_year=last_year)
    config_dir = write_synth_config(res, home / "config")
    out = {"home": str(home), "inbox": str(inbox), "config_dir": str(config_dir), "offices": len(res["offices"]),
           "workbooks": res["workbooks"], "bad_workbooks": len(res["bad_files"]), "seed": seed,
           "next": f"PCVE_CONFIG_DIR={config_dir} pcve run --home {home}"}

    def render(d):
        click.echo(f"{d['workbooks']} workbooks ({d['bad_workbooks']} broken on purpose) of {d['offices']} offices "
                   f"in {d['inbox']}\nconfiguration in {d['config_dir']}\nnext: {d['next']}")

    _emit(out, as_json, render)


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if the suite files differ from config/forms.yml.")
def suites(check: bool) -> None:
    """(Re)generate the GX suites in expectations/suites/ from config/forms.yml."""
    from expectations.suites import SUITES_DIR, suite_json
    from pcve.config import load_config

    cfg = load_config()
    stale = [f for f, form in cfg.forms.items()
             if not (SUITES_DIR / f"{f}.json").exists()
             or (SUITES_DIR / f"{f}.json").read_text(encoding="utf-8") != suite_json(cfg, form)]
    if check:
        if stale:
            _fail(f"suites out of date: {', '.join(stale)}; run `pcve suites`")
        click.echo("suites up to date")
        return
    from expectations.suites import write_suites

    for p in write_suites(cfg):
        click.echo(str(p))


@main.command()
@home_option
@click.option("--host", default=lambda: os.getenv("PCVE_PORTAL_HOST", "127.0.0.1"), show_default="127.0.0.1",
              help="Address to listen on (env PCVE_PORTAL_HOST); keep it on loopback behind a TLS proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=lambda: int(os.getenv("PCVE_PORTAL_PORT", "8081")),
              show_default="8081", help="Port (env PCVE_PORTAL_PORT).")
@_guard
def serve(home: Path, host: str, port: int) -> None:
    """The office portal: offices upload a workbook, see its located check at once, submit it into
    their source, and follow what they owe. Accounts: `pcve portal add-user`."""
    from pcve.portal.app import serve as _serve

    _serve(home, host=host, port=port)


@main.group()
def portal() -> None:
    """Accounts of the office portal (stored hashed in HOME/portal/users.json)."""


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")  # piped: the first line (never argv: ps would show it)


@portal.command("add-user")
@click.argument("name")
@home_option
@click.option("--office", help="The office this user submits for (see config/offices.yml).")
@click.option("--engineer", is_flag=True, help="An engineer: sees every office.")
@click.option("--replace", is_flag=True, help="Replace an existing user's password and role.")
@_guard
def portal_add_user(name: str, home: Path, office: str | None, engineer: bool, replace: bool) -> None:
    """Create a portal user. The password is read from the terminal (asked twice) or from the
    first line of stdin, never from the command line."""
    from pcve.config import load_config
    from pcve.portal.accounts import AccountError, Accounts

    if bool(office) == engineer:
        raise click.UsageError("give exactly one of --office CODE or --engineer")
    if office and office not in load_config().offices:
        raise click.BadParameter(f"unknown office {office!r}; known: {', '.join(load_config().offices)}")
    try:
        Accounts(Path(home)).add(name, _read_password(name), office=office, replace=replace)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"portal user {name}: {'engineer (every office)' if engineer else 'office ' + office}")


@portal.command("unlock")
@click.argument("name")
@home_option
@_guard
def portal_unlock(name: str, home: Path) -> None:
    """Lift a lock-out after repeated failed logins."""
    from pcve.portal.accounts import AccountError, Accounts

    try:
        Accounts(Path(home)).unlock(name)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"portal user {name}: unlocked")


@portal.command("list-users")
@home_option
@json_option
@_guard
def portal_list_users(home: Path, as_json: bool) -> None:
    """Portal users, their office and whether they are locked out (never a hash)."""
    from pcve.portal.accounts import Accounts

    users = Accounts(Path(home)).listing()
    _emit(users, as_json, lambda us: [click.echo(f"{u['name']:24} {u['office'] or 'engineer':12} "
                                                 f"{'LOCKED' if u['locked'] else ''}") for u in us])


if __name__ == "__main__":
    main()
