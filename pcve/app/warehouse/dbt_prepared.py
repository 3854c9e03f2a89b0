"""A dbt process prepared while the intake runs: `pcve run` starts it as soon as the intake finds new
files; it imports dbt and parses the project (~3 s, on the second core) while the intake reads and
validates, then runs the one dbt command the build asks of it on the parsed manifest.

The parent talks to it over its stdin and a pipe of its own (dbt's output never mixes with the
reply): one JSON line each way. The child dies with the parent (PR_SET_PDEATHSIG): a killed run
leaves no dbt writing the warehouse. Anything unexpected (the child could not start, parse or
answer) falls back to dbt in the caller's process, which reports dbt's own errors.

Off with PCVE_DBT_PREPARE=off, inside a daemonic process (Celery's prefork workers), and while fault
injection is on (its crash points count the hits of one process).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date

from pcve.app.warehouse import dbt_runner
from pcve.app.warehouse.state import _as_of
from pcve.core import db, faults
from pcve.core.home import Home
from pcve.core.settings import settings

log = logging.getLogger(__name__)


class Prepared:
    """Handle on a child process that is importing dbt and parsing the project for one home."""

    def __init__(self, home: Home, as_of: date, proc: subprocess.Popen, reply_fd: int):
        self.home, self.as_of, self.proc = home, as_of, proc
        self._reply = os.fdopen(reply_fd, "r", encoding="utf-8")
        self._used = False
        self.answered = False  # it ran the command and answered (a failed build included)

    def run(self, command: list[str]) -> dict | None:
        """Run `command` (e.g. ["build", "--select", ...]) in the child: its summary (dict) or None when
        the child cannot answer (the caller runs dbt itself). A failing build raises
        WarehouseBuildError as in-process dbt would."""
        try:
            self.proc.stdin.write(json.dumps({"command": command}) + "\n")
            self.proc.stdin.flush()
            line = self._reply.readline()
        except (BrokenPipeError, OSError) as exc:
            log.warning("the prepared dbt process is gone (%s): dbt runs in this process", type(exc).__name__)
            line = ""
        finally:
            self._used = True
            self.close()
        if not line:
            return None
        reply = json.loads(line)
        if "summary" in reply:
            self.answered = True
            return reply["summary"]
        if "failed" in reply:
            self.answered = True
            raise dbt_runner.WarehouseBuildError(reply["error"], reply["failed"])
        log.warning("the prepared dbt process could not run dbt (%s): dbt runs in this process", reply.get("error"))
        return None

    def close(self) -> None:
        """End the child and reap it: an unused one is killed (it has only parsed the project: nothing
        of the warehouse is lost, and a run whose build is skipped does not wait for the parse)."""
        if not self._used and self.proc.poll() is None:
            self.proc.kill()
        for stream in (self.proc.stdin, self._reply):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def enabled() -> bool:
    import multiprocessing

    return settings().dbt_prepare and not multiprocessing.current_process().daemon and not faults.enabled()


def start(home, as_of: date | None = None) -> Prepared | None:
    """Start preparing dbt for `home` (None when preparing is off or the process cannot start)."""
    if not enabled():
        return None
    h = Home.at(home)
    day = _as_of(as_of)
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from pcve.app.warehouse.dbt_prepared import _child; "
             "_child(sys.argv[1], sys.argv[2], int(sys.argv[3]))", str(h.root), day.isoformat(), str(write_end)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, pass_fds=(write_end,),
            # the child's own GIL on the second core; output of dbt, if any, goes nowhere
        )
    except OSError as exc:
        os.close(read_end)
        log.warning("could not start a dbt process (%s): dbt runs in this process", exc)
        return None
    finally:
        os.close(write_end)
    return Prepared(h, day, proc, read_end)


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux); a no-op elsewhere."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _child(home: str, as_of: str, reply_fd: int) -> None:
    _die_with_parent()
    reply = os.fdopen(reply_fd, "w", encoding="utf-8")

    def answer(obj: dict) -> None:
        reply.write(json.dumps(obj) + "\n")
        reply.flush()

    h = Home.at(home)
    day = date.fromisoformat(as_of)
    manifest, error = None, None
    try:
        from dbt.cli.main import dbtRunner

        os.environ.update(db.dbt_env(db.target(h.root)))  # what profiles.yml reads
        res = dbtRunner().invoke(dbt_runner._dbt_args(h, ["parse"], day))
        if res.success:
            manifest = res.result
        else:
            error = f"dbt parse failed: {res.exception}"
    except Exception as exc:  # noqa: BLE001 - the parent runs dbt itself and reports its errors
        error = f"{type(exc).__name__}: {exc}"
    line = sys.stdin.readline()  # the command, once the intake is done (EOF: not needed after all)
    if not line:
        return
    if manifest is None:
        answer({"error": error})
        return
    command = json.loads(line)["command"]
    try:
        res = dbt_runner._invoke(h, command, day, manifest=manifest)
        answer({"summary": dbt_runner._summarise(res, command[0], h)})
    except dbt_runner.WarehouseBuildError as exc:
        answer({"error": str(exc), "failed": exc.failed})
    except Exception as exc:  # noqa: BLE001 - not dbt's verdict: the parent runs dbt itself
        answer({"error": f"{type(exc).__name__}: {exc}"})

