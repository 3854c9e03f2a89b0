"""The office portal's check, warm, beside `pcve validate` as a cold process (issue 18's target:
a warm server answers the check of a typical office workbook in <= 1 s at the 95th percentile).

A real `pcve serve` on a loopback port; a logged-in client uploads the same Almaty demo
workbook again and again (upload, check, the result page), timed end to end over HTTP.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

T_WARM_P95_SECONDS = 1.0


def _free_port() -> int:
    first = int(os.getenv("PCVE_BENCH_PORT", "0") or 0)
    if first:  # an operator-chosen range (machines shared by several people)
        for port in range(first, first + 200):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, -(-len(ordered) * q // 100) - 1))
    return ordered[int(k)]


def _workbook(work: Path) -> Path:
    from pcve.demo import write_demo

    inbox = work / "portal-demo-inbox"
    files = write_demo(inbox)
    # a typical month of Almaty: its accepted workbook for 2017-03 (every form, title and totals rows)
    return next(p for p in files if p.name == "almaty_2017-03.xlsx")


def _multipart(csrf: str, name: str, data: bytes) -> tuple[bytes, str]:
    b = "----pcve-bench"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def measure_portal(work: Path, env: dict, quick: bool) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    home = work / "portal-home"
    book = _workbook(work)
    data = book.read_bytes()
    pcve = [sys.executable, "-m", "pcve.cli"]
    login = secrets.token_urlsafe(18)  # a throwaway account of this run's own home
    added = subprocess.run([*pcve, "portal", "add-user", "bench", "--office", "almaty", "--home", str(home)],
                           input=login + "\n", capture_output=True, text=True, env=env)
    if added.returncode:
        raise RuntimeError(added.stderr[-2000:])
    # cold: a fresh `pcve validate` process per check, as an office's file was checked before the portal
    cold = []
    for _ in range(2 if quick else 5):
        t0 = time.perf_counter()
        subprocess.run([*pcve, "validate", str(book), "--office", "almaty"], capture_output=True, env=env)
        cold.append(time.perf_counter() - t0)
    port = _free_port()
    t_start = time.perf_counter()
    log = open(work / "portal.log", "wb")  # noqa: SIM115 (closed below, after the server stops)
    proc = subprocess.Popen([*pcve, "serve", "--home", str(home), "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        while True:
            try:
                page = opener.open(base + "/", timeout=5).read().decode()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t_start > 300:
                    raise RuntimeError("pcve serve did not start") from None
                time.sleep(0.2)
        startup = time.perf_counter() - t_start
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        body = urllib.parse.urlencode({"csrf": csrf, "name": "bench", "password": login}).encode()
        page = opener.open(urllib.request.Request(base + "/login", data=body), timeout=30).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        warm, errors = [], None
        for _ in range(5 if quick else 40):
            body, ctype = _multipart(csrf, book.name, data)
            req = urllib.request.Request(base + "/office/almaty/upload", data=body, headers={"Content-Type": ctype})
            t0 = time.perf_counter()
            page = opener.open(req, timeout=60).read().decode()  # the redirect to the result page is followed
            warm.append(time.perf_counter() - t0)
            errors = int(re.search(r'data-errors="(\d+)"', page)[1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return {"workbook": book.name, "bytes": len(data), "errors": errors, "startup_seconds": startup,
            "warm": warm, "cold": cold, "warm_p50": percentile(warm, 50), "warm_p95": percentile(warm, 95),
            "cold_p50": percentile(cold, 50), "cold_p95": percentile(cold, 95)}


def report_lines(p: dict) -> list[str]:
    ms = lambda x: f"{x * 1000:.0f} ms"  # noqa: E731
    return [
        f"`pcve serve` on loopback, one logged-in client uploading `{p['workbook']}` ({p['bytes']:,} bytes, the "
        f"demo's Almaty March 2017: every form, title and totals rows; {p['errors']} error(s)) {len(p['warm'])} "
        "times; each time is upload + check (parser, privacy gate, GX suites) + the result page, over HTTP. "
        f"The server started (GX and parsers warmed) in {p['startup_seconds']:.1f} s.",
        "",
        "| check of one workbook | p50 | p95 | runs |",
        "| --- | --- | --- | --- |",
        f"| portal, warm server | {ms(p['warm_p50'])} | {ms(p['warm_p95'])} | {len(p['warm'])} |",
        f"| `pcve validate` as a cold process | {ms(p['cold_p50'])} | {ms(p['cold_p95'])} | {len(p['cold'])} |",
        "",
        "The cold process pays Python's, GX's and pandas' imports and GX's context on every file; the "
        "server pays them once.",
    ]
