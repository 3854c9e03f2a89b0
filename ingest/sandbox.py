"""Reading and parsing received files in child processes held to limits.

Whatever a file does to the reader (a zip bomb that inflates past the address space, XML that
takes minutes, a crash inside calamine's native code), it happens in a child process:

- each child sets RLIMIT_AS to what it uses at start plus `Limits.memory_mb`, so an allocation
  past it fails there (MemoryError, or an abort in native code) instead of swapping the machine;
- the parent gives each file `Limits.seconds` of wall time, then kills the child;
- a child that dies or is killed is replaced and its file ends *rejected* with a located reason
  (`too_large`, `too_slow`, `internal_error` naming the stage): the other files go on.

Children are kept for the whole batch and are plain subprocesses of a clean interpreter (see
`_Popen` for why not multiprocessing's fork, fork server or spawn).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import wait
from pathlib import Path

from ingest.parse import FileParser, internal_error_file
from ingest.reader import Limits
from pcve.core import config
from pcve.core.config import load_config
from pcve.core.model import Issue, ParsedFile
from pcve.core.periods import period_from_filename
from pcve.core.privacy import mask

log = logging.getLogger("pcve.sandbox")

Job = tuple[str, str, str]  # (office, path of the archived copy, the name the office gave)


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the wall-time limit still holds
        return
    base = _address_space()
    if base is None:
        return
    cap = base + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _child(conn, config_dir: str, limits: Limits) -> None:
    """A child's loop: one job in, one ParsedFile out, until told to stop (None) or killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a child stops
    memory_mb = limits.memory_mb
    _limit_memory(memory_mb)
    parsers: dict[str, FileParser] = {}
    cfg = load_config(config_dir)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        office, path, name = job
        try:
            if office not in parsers:
                parsers[office] = FileParser(cfg, office, limits)
            pf = parsers[office].parse(Path(path), name)
        except MemoryError:
            pf = rejected(office, name, "too_large", f"more than {memory_mb} MB of memory")
        except Exception as exc:  # FileParser.parse catches what the file causes: this is ours
            pf = internal_error_file(office, name, "read", exc)
        try:
            conn.send(pf)
        except MemoryError:
            conn.send(rejected(office, name, "too_large", f"more than {memory_mb} MB of memory"))


def rejected(office: str, name: str, rule: str, detail: str) -> ParsedFile:

    name = mask(name)
    try:
        period = period_from_filename(name)
    except Exception:
        period = None
    pf = ParsedFile(office, name, period, "workbook")
    pf.issues.append(Issue("error", rule, params={"detail": detail}))
    return pf


class _Popen:
    """A child started as a plain subprocess (`python -m ingest.sandbox`, ~0.15 s to start): a clean
    interpreter whatever this process is. Not multiprocessing's: a forked child could reuse this
    process's freed heap without growing its address space (the memory limit would not hold), a
    fork server or spawn re-imports __main__ (an Airflow task's `airflow` script fails there), and
    a daemonic process (a Celery prefork task) may not have multiprocessing children at all."""

    def __init__(self, config_dir: str, limits: Limits):
        import pickle
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        arg = pickle.dumps((config_dir, limits)).hex()
        self._p = subprocess.Popen([sys.executable, "-m", "ingest.sandbox", str(down_r), str(up_w), arg],
                                   pass_fds=(down_r, up_w), close_fds=True)
        os.close(down_r)
        os.close(up_w)
        self.conn = _Duplex(Connection(up_r, writable=False), Connection(down_w, readable=False))

    @property
    def exitcode(self):
        return self._p.poll()

    def is_alive(self) -> bool:
        return self._p.poll() is None

    def kill(self) -> None:
        self._p.kill()

    def join(self, timeout: float | None = None) -> None:
        import subprocess

        try:
            self._p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


class _Duplex:
    """Two one-way connections as one: recv from the child, send to it; `wait` watches the first."""

    def __init__(self, up, down):
        self.up, self.down = up, down

    def fileno(self) -> int:
        return self.up.fileno()

    def recv(self):
        return self.up.recv()

    def send(self, obj) -> None:
        self.down.send(obj)

    def close(self) -> None:
        self.up.close()
        self.down.close()


class _Worker:
    def __init__(self, config_dir: str, limits: Limits):
        self.proc = _Popen(config_dir, limits)
        self.conn = self.proc.conn
        self.job: tuple[int, Job] | None = None
        self.deadline = 0.0

    def give(self, n: int, job: Job, seconds: float) -> bool:
        try:
            self.conn.send(job)
        except (OSError, ValueError):
            return False
        self.job, self.deadline = (n, job), time.monotonic() + seconds
        return True

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


def parse_sandboxed(jobs: Iterable[Job], limits: Limits, workers: int = 1, config_dir: str | None = None,
                    ) -> Iterator[ParsedFile]:
    """ParsedFiles in the jobs' order, each read and parsed in a child process under `limits`."""

    config_dir = str(config_dir or config.CONFIG_DIR)
    jobs = list(jobs)
    if not jobs:
        return
    pending = deque(enumerate(jobs))
    done: dict[int, ParsedFile] = {}
    pool = [_Worker(config_dir, limits) for _ in range(max(1, min(workers, len(jobs))))]
    next_out = 0
    try:
        while next_out < len(jobs):
            for i, w in enumerate(pool):
                if w.job is None and pending:
                    n, job = pending.popleft()
                    if not w.give(n, job, limits.seconds):  # a child that died idle: replaced
                        w.kill()
                        pool[i] = w = _Worker(config_dir, limits)
                        w.give(n, job, limits.seconds)
            busy = [w for w in pool if w.job is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else 0.0
            ready = set(wait([w.conn for w in busy], timeout=timeout)) if busy else set()
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                n, (office, _, name) = w.job
                if w.conn in ready:
                    try:
                        done[n] = w.conn.recv()
                        w.job = None
                        continue
                    except (EOFError, OSError):  # died mid-file: a bomb past the memory limit, a crash
                        w.proc.join(5)
                        code = w.proc.exitcode
                        log.warning("reader process died on %r (exit %s)", mask(name), code)
                        # out of memory: Rust aborts (SIGABRT), the kernel kills (SIGKILL); else ours
                        done[n] = (rejected(office, name, "too_large",
                                            f"more than {limits.memory_mb} MB of memory")
                                   if code in (-signal.SIGKILL, -signal.SIGABRT)
                                   else internal_error_file(office, name, "read", detail=f"exit {code}"))
                elif time.monotonic() >= w.deadline:
                    log.warning("reading %r took more than %ss: stopped", mask(name), limits.seconds)
                    done[n] = rejected(office, name, "too_slow", f"{limits.seconds:g} s")
                else:
                    continue
                w.kill()
                pool[i] = _Worker(config_dir, limits)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        for w in pool:
            if w.job is None:
                w.stop()
            else:
                w.kill()


if __name__ == "__main__":  # a _Popen child: python -m ingest.sandbox <read fd> <write fd> <args>
    import pickle
    import sys
    from multiprocessing.connection import Connection

    _config_dir, _limits = pickle.loads(bytes.fromhex(sys.argv[3]))
    _child(_Duplex(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)),
           _config_dir, _limits)
