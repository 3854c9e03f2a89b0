"""The office portal (`pcve serve --home DIR`): FastAPI, server-rendered Jinja2 pages, no JavaScript.

Pages: the login form (`/` without a session), an office's page (what it sent and what became
of it, reports, periods due and overdue, blank templates), upload → check (the same parser,
privacy gate and GX suites as intake: pcve.app.check) → submit into the office's source.

Security: a signed session cookie (itsdangerous; HttpOnly, SameSite=Strict, Secure over HTTPS)
carrying the user and a CSRF token that every form posts back; a logout voids every cookie
of the user (an epoch in users.json); lock-out after repeated failed logins (accounts.py);
CSP without scripts, frame-ancestors 'none', nosniff on every response. An office user is
served only its own office: any other office's URL answers 404, as an unknown one does.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ingest import sources
from ingest.ledger import LedgerState
from ingest.template import template_file_name, write_template
from pcve.app.check import LANGS, check_file, cool, current_config, warm
from pcve.app.intake import discover
from pcve.app.portal import submit as S
from pcve.app.portal.accounts import Accounts, User
from pcve.app.portal.texts import REFUSED, TOO_LARGE, UI
from pcve.app.status import _last_ended, status
from pcve.core.home import Home
from pcve.core.periods import ALMATY_TZ, Period, parse_period
from pcve.core.privacy import mask
from pcve.core.settings import settings as pcve_settings

log = logging.getLogger("pcve.portal")
HERE = Path(__file__).resolve().parent
COOKIE = "pcve_portal"
SESSION_SECONDS = 8 * 3600
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the CSRF field around the file


@dataclass
class Settings:
    home: Path
    signing_key: bytes
    max_upload_bytes: int = S.MAX_FILE_BYTES  # intake's own limit (ingest/reader.py)
    airflow_url: str = ""
    airflow_user: str = ""
    airflow_password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, home: Path) -> Settings:
        env = pcve_settings()
        return cls(home=Home.at(home).root, signing_key=_secret(Home.at(home).root),
                   airflow_password=env.portal_airflow_password, airflow_url=env.portal_airflow_url,
                   airflow_user=env.portal_airflow_user)


def _secret(home: Path) -> bytes:
    """The cookie-signing key: PCVE_PORTAL_SECRET, or a random key kept in HOME/portal/secret.key (0600)."""
    if env := pcve_settings().portal_secret:
        return env.encode()
    path = home / "portal" / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(32))
    return path.read_bytes()


class _TooLarge(Exception):
    pass


class _BodyLimit:
    """Refuse an upload body over the limit while it streams in, before it is spooled whole."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > self.limit:
            return await _too_large(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


async def _too_large(send) -> None:
    body = TOO_LARGE.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            *[(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings) -> FastAPI:
    home = Home.at(settings.home)
    accounts = Accounts(home.root)
    uploads = S.Uploads(home.root)
    signer = URLSafeTimedSerializer(settings.signing_key, salt="pcve-portal-session")
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(UI=UI, LANGS=LANGS)

    app = FastAPI(title="pcve office portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(_BodyLimit, limit=settings.max_upload_bytes + FORM_OVERHEAD)
    app.state.settings = settings

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    # ------------------------------------------------------------ session helpers
    def load_session(request: Request) -> dict:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = signer.loads(raw, max_age=SESSION_SECONDS)
                if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                    return data
            except BadSignature:
                pass
        return {}

    def current_user(session: dict) -> User | None:
        name = session.get("u")
        if not name:
            return None
        user = accounts.get(name)
        if user is None or user.epoch != session.get("e"):
            return None  # logged out since, password replaced, or removed
        return user

    def with_cookie(request: Request, response: Response, session: dict) -> Response:
        response.set_cookie(COOKIE, signer.dumps(session), max_age=SESSION_SECONDS, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        return response

    def render(request: Request, name: str, session: dict, status: int = 200, **ctx) -> Response:
        if not session.get("csrf"):
            session["csrf"] = secrets.token_urlsafe(32)
        cfg = current_config()
        response = templates.TemplateResponse(request, name, {"csrf": session["csrf"], "cfg": cfg, **ctx},
                                              status_code=status)
        return with_cookie(request, response, session)

    def csrf_ok(session: dict, form) -> bool:
        sent = form.get("csrf") if form is not None else None
        return bool(session.get("csrf")) and isinstance(sent, str) and hmac.compare_digest(sent, session["csrf"])

    def refuse_csrf(request: Request) -> Response:
        log.warning("portal: form without a valid CSRF token refused (%s %s)", request.method, request.url.path)
        return PlainTextResponse("The form is out of date or was not sent from this portal: reload the page "
                                 "and try again.", status_code=403)

    def not_found() -> Response:
        return PlainTextResponse("Not found.", status_code=404)

    def office_of(user: User | None, code: str):
        """The office, if it exists and the user may see it; None otherwise (one answer for both)."""
        cfg = current_config()
        if user is None or code not in cfg.offices or not user.may_see(code):
            return None
        return cfg.offices[code]

    def lang_of(request: Request, office) -> str:
        lang = request.query_params.get("lang", "")
        return lang if lang in LANGS else office.language

    # ------------------------------------------------------------ login
    @app.get("/", response_class=HTMLResponse)
    def index(request: Request):
        session = load_session(request)
        user = current_user(session)
        if user is None:
            return render(request, "login.html", session, user=None, failed=False)
        if not user.is_engineer:
            return RedirectResponse(f"/office/{user.office}", status_code=303)

        rep = status(home.root)
        return render(request, "offices.html", session, user=user, offices=rep["offices"])

    @app.post("/login")
    async def login(request: Request):
        session = load_session(request)
        form = await request.form()
        if not csrf_ok(session, form):
            return refuse_csrf(request)
        name, password = str(form.get("name") or "")[:64], str(form.get("password") or "")
        user = accounts.authenticate(name, password)
        if user is None:
            log.warning("portal: failed login for %r", mask(name))
            return render(request, "login.html", session, status=401, user=None, failed=True)
        log.info("portal: %s logged in", user.name)
        # a fresh session (and CSRF token) at login: a token seen before login is worth nothing after
        response = RedirectResponse("/", status_code=303)
        return with_cookie(request, response, {"csrf": secrets.token_urlsafe(32), "u": user.name, "e": user.epoch})

    @app.post("/logout")
    async def logout(request: Request):
        session = load_session(request)
        form = await request.form()
        if not csrf_ok(session, form):
            return refuse_csrf(request)
        user = current_user(session)
        if user:
            accounts.end_sessions(user.name)
            log.info("portal: %s logged out", user.name)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # ------------------------------------------------------------ what the office owes
    @app.get("/office/{code}", response_class=HTMLResponse)
    def office_page(request: Request, code: str):
        session = load_session(request)
        user = current_user(session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        office = office_of(user, code)
        if office is None:
            return not_found()
        return render(request, "office.html", session, user=user, office=office, lang=lang_of(request, office),
                      **_owed(home, code))

    @app.get("/office/{code}/report/{submission_id}/{kind}")
    def report(request: Request, code: str, submission_id: str, kind: str):
        user = current_user(load_session(request))
        office = office_of(user, code)
        if office is None or kind not in _REPORT_KINDS:
            return not_found()

        sub = LedgerState.load(home.ledger).submissions.get(submission_id)
        if sub is None or sub.office != code:  # another office's id answers as an unknown one
            return not_found()
        data = _read_report(office.source_location(home.root), sub.file_name, kind)
        if data is None:
            return not_found()
        suffix, media = _REPORT_KINDS[kind]
        filename = sub.file_name + suffix
        return Response(data, media_type=media, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})

    @app.get("/office/{code}/template")
    def template(request: Request, code: str, period: str = ""):
        user = current_user(load_session(request))
        office = office_of(user, code)
        if office is None:
            return not_found()
        import tempfile


        try:
            p = parse_period(period.strip())
        except ValueError:
            return PlainTextResponse(f"Not a period: write {'2017-03' if office.periodicity == 'month' else '2025-Q3'}.",
                                     status_code=400)
        if p.kind != office.periodicity:
            return PlainTextResponse(f"This office reports by {office.periodicity}.", status_code=400)
        name = template_file_name(current_config(), code, p)
        with tempfile.TemporaryDirectory() as tmp:
            data = write_template(current_config(), code, p, Path(tmp) / name).read_bytes()
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    # ------------------------------------------------------------ upload, check, submit
    @app.get("/office/{code}/upload", response_class=HTMLResponse)
    def upload_form(request: Request, code: str):
        session = load_session(request)
        user = current_user(session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        office = office_of(user, code)
        if office is None:
            return not_found()
        return render(request, "upload.html", session, user=user, office=office, lang=lang_of(request, office),
                      refused=None, max_mb=settings.max_upload_bytes // (1024 * 1024),
                      exts=", ".join(sorted(S.SUPPORTED_EXT)))

    @app.post("/office/{code}/upload")
    async def upload(request: Request, code: str):
        session = load_session(request)
        user = current_user(session)
        form = await request.form()
        if not csrf_ok(session, form):
            return refuse_csrf(request)
        office = office_of(user, code)
        if office is None:
            return not_found()
        lang = form.get("lang") if form.get("lang") in LANGS else office.language

        def refused(rule: str, detail: str = "", status: int = 400):
            return render(request, "upload.html", session, status=status, user=user, office=office, lang=lang,
                          refused=REFUSED[rule][lang].format(detail=detail),
                          max_mb=settings.max_upload_bytes // (1024 * 1024), exts=", ".join(sorted(S.SUPPORTED_EXT)))

        file = form.get("file")
        if file is None or isinstance(file, str):
            return refused("no_file")
        try:
            name = S.clean_name(file.filename or "")
        except S.NameRefused as exc:
            log.info("portal: %s: upload refused (%s)", user.name, exc.rule)
            return refused(exc.rule, exc.detail)
        if (file.size or 0) > settings.max_upload_bytes:
            return PlainTextResponse(TOO_LARGE, status_code=413)
        uid, folder = uploads.new(code)
        stored = folder / "upload"  # no office-chosen name on disk until submit
        with open(stored, "wb") as out:
            while chunk := await file.read(1 << 20):
                out.write(chunk)
        import hashlib

        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(check_file, code, stored, name)
        meta = {"office": code, "user": user.name, "name": name, "size": stored.stat().st_size,
                "sha256": hashlib.sha256(stored.read_bytes()).hexdigest(),
                "checked_at": datetime.now(ALMATY_TZ).replace(microsecond=0).isoformat(), "check": result}
        uploads.save_meta(folder, meta)
        log.info("portal: %s checked %r for %s: %d error(s), %d warning(s)", user.name, name, code,
                 result["errors"], result["warnings"])
        return RedirectResponse(f"/office/{code}/check/{uid}?lang={lang}", status_code=303)

    @app.get("/office/{code}/check/{uid}", response_class=HTMLResponse)
    def check_page(request: Request, code: str, uid: str):
        session = load_session(request)
        user = current_user(session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        office = office_of(user, code)
        meta = uploads.meta(code, uid) if office else None
        if meta is None:
            return not_found()
        return render(request, "check.html", session, user=user, office=office, lang=lang_of(request, office),
                      uid=uid, meta=meta, check=meta["check"])

    @app.post("/office/{code}/check/{uid}/submit", response_class=HTMLResponse)
    async def submit(request: Request, code: str, uid: str):
        session = load_session(request)
        user = current_user(session)
        form = await request.form()
        if not csrf_ok(session, form):
            return refuse_csrf(request)
        office = office_of(user, code)
        meta = uploads.meta(code, uid) if office else None
        if meta is None:
            return not_found()
        folder = uploads.folder(code, uid)
        placed = S.place_in_source(office.source_location(home.root), meta["name"], folder / "upload")
        receipt = {"office": code, "user": user.name, "name": placed, "checked_as": meta["name"],
                   "sha256": meta["sha256"], "size": meta["size"], "errors": meta["check"]["errors"],
                   "warnings": meta["check"]["warnings"],
                   "submitted_at": datetime.now(ALMATY_TZ).replace(microsecond=0).isoformat()}
        if settings.airflow_url:
            try:
                receipt["airflow_run"] = S.trigger_intake(settings.airflow_url, settings.airflow_user,
                                                          settings.airflow_password, code)
            except Exception as exc:  # the file is in the source: the scheduled intake reads it anyway
                receipt["airflow_error"] = S.airflow_error(exc)
                log.warning("portal: could not trigger office_intake: %s", receipt["airflow_error"])
        nxt = S.next_intake()
        receipt["next_intake"] = nxt.isoformat() if nxt else None
        _append_receipt(home.root, receipt)
        uploads.remove(code, uid)
        log.info("portal: %s submitted %r for %s (%d error(s) at check)", user.name, placed, code,
                 receipt["errors"])
        return render(request, "receipt.html", session, user=user, office=office, lang=lang_of(request, office),
                      receipt=receipt)

    return app


_REPORT_KINDS = {"receipt": (".receipt.html", "text/html; charset=utf-8"),
                 "errors-html": (".errors.html", "text/html; charset=utf-8"),
                 "errors-csv": (".errors.csv", "text/csv; charset=utf-8")}


def _read_report(location: str, file_name: str, kind: str) -> bytes | None:

    fs, root = sources.filesystem(location)
    path = f"{root}/{sources.REPORTS_DIR}/{sources.safe_name(file_name + _REPORT_KINDS[kind][0])}"
    try:
        with fs.open(path, "rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError):
        return None


def _reports_present(location: str, file_name: str) -> list[str]:

    fs, root = sources.filesystem(location)
    return [k for k, (suffix, _) in _REPORT_KINDS.items()
            if fs.exists(f"{root}/{sources.REPORTS_DIR}/{sources.safe_name(file_name + suffix)}")]


def _owed(home: Home, code: str) -> dict:
    """The office page's data: submissions from the ledger (pcve status), files waiting for intake,
    periods missing with their deadlines, and the open period."""

    cfg = current_config()
    office = cfg.offices[code]
    rep = status(home.root)["offices"][code]
    location = office.source_location(home.root)
    submissions = []
    for period, p in rep["periods"].items():
        for s in p["received"]:
            submissions.append({**s, "period": period, "file": mask(s["file"]),
                                "reports": _reports_present(location, s["file"])})
    submissions.sort(key=lambda s: s["submission_id"], reverse=True)
    try:
        waiting = [mask(r["name"]) for r in discover(home.root, code)]
    except Exception as exc:  # a remote source that does not answer: the rest of the page still shows
        log.warning("portal: cannot list the source of %s: %s", code, type(exc).__name__)
        waiting = []
    today = datetime.now(ALMATY_TZ).date()
    last = _last_ended(office.periodicity, today)
    nxt = _next_period(last)
    open_period = {"period": nxt.token, "due": (nxt.end + timedelta(days=office.due_days)).isoformat()}
    return {"submissions": submissions, "missing": list(reversed(rep["missing"])), "waiting": waiting,
            "open_period": open_period, "default_period": last.token,
            "overdue": sum(m["overdue"] for m in rep["missing"])}


def _next_period(p):

    if p.kind == "month":
        return Period("month", p.year + (p.number == 12), p.number % 12 + 1)
    return Period("quarter", p.year + (p.number == 4), p.number % 4 + 1)


def _append_receipt(root: Path, receipt: dict) -> None:
    """The portal's own record of what it placed in a source, for whoever asks later who sent a file."""
    path = root / "portal" / "submissions.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(receipt, ensure_ascii=False, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def serve(home: Path, host: str = "127.0.0.1", port: int = 8081) -> None:
    """Run the portal with uvicorn; GX and the parsers are built before the first request."""
    import uvicorn


    settings = Settings.from_env(home)
    Home.at(settings.home).ensure()
    for name in ("pcve.app.portal", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.INFO)
    warm()
    log.info("portal: serving %s on http://%s:%d", settings.home, host, port)
    # log_config=None: uvicorn's records reach the root handlers, which escape and privacy-mask them
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, server_header=False,
                    proxy_headers=True, forwarded_allow_ips=pcve_settings().portal_trusted_proxies)
    finally:
        cool()  # the reader children started ahead stop with the server
