"""The office portal through FastAPI's TestClient: sessions, CSRF, lock-out, office isolation,
upload limits and names, the check (the same as `pcve validate`), submit into the source, the
office page from the ledger, the Airflow trigger (against a tiny local HTTP server), and the
privacy rule: an identifier planted in a name or a cell never shows on a page, in a log or in a
stored name. One app and one home per module: GX stays warm between tests, as in the server."""

from __future__ import annotations

import html
import http.server
import json
import logging
import re
import stat
import threading
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import ledger as L
from ingest.intake import intake
from ingest.messages import MESSAGES
from ingest.privacy import privacy_rule
from ingest.reader import MAX_FILE_BYTES, SUPPORTED_EXT
from pcve.config import load_config
from pcve.home import Home
from pcve.periods import ALMATY_TZ
from pcve.portal import submit as S
from pcve.portal.accounts import Accounts
from pcve.portal.app import COOKIE, Settings, create_app
from pcve.portal.texts import UI
from tests.servers import free_port
from tests.workbooks import EVENTS_KK, outreach_sheet, write_xlsx

PASSWORDS = {"alma": "almaty-password-1", "turk": "turkistan-password-1", "eng": "engineer-password-1",
             "locky": "locky-password-1"}
IIN = "880101300123"  # IIN-shaped: 12 digits, 880101 a valid date
PHONE_DIGITS = "7011234567"
PHONE = "+7 701 123 45 67"
CFG = load_config()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def _client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


def _login(app, name: str):
    c = _client(app)
    tok = _csrf(c.get("/").text)
    r = c.post("/login", data={"csrf": tok, "name": name, "password": PASSWORDS[name]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _upload(c, office: str, name: str, data: bytes, lang: str | None = None):
    tok = _csrf(c.get(f"/office/{office}/upload").text)
    form = {"csrf": tok, **({"lang": lang} if lang else {})}
    return c.post(f"/office/{office}/upload", data=form, files={"file": (name, data)}, follow_redirects=False)


def _raw_upload(c, office: str, name: bytes, data: bytes):
    """A multipart body written by hand: a client library percent-encodes a NUL in a file name,
    a hostile client sends the byte itself."""
    tok = _csrf(c.get(f"/office/{office}/upload").text)
    b = b"----pcve-boundary"
    body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + tok.encode() + b"\r\n--" + b +
            b'\r\nContent-Disposition: form-data; name="file"; filename="' + name + b'"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + b + b"--\r\n")
    return c.post(f"/office/{office}/upload", content=body,
                  headers={"Content-Type": "multipart/form-data; boundary=" + b.decode()}, follow_redirects=False)


def _uid(response) -> str:
    return response.headers["location"].split("/check/")[1].split("?")[0]


def _submit(c, office: str, uid: str):
    tok = _csrf(c.get(f"/office/{office}/check/{uid}").text)
    return c.post(f"/office/{office}/check/{uid}/submit", data={"csrf": tok})


def _bad_and_good(tmp: Path, period: str = "2017-03") -> tuple[bytes, bytes]:
    """An Almaty workbook for `period` with one located error (a word for a number), and the same fixed."""
    from ingest.template import month_label
    from pcve.periods import parse_period

    month = month_label(parse_period(period), "kk")
    bad = write_xlsx(tmp / f"bad-{period}.xlsx", {"Әңгімелесу": outreach_sheet(month, [("Медеу", "ислам", "бес", 9)])})
    good = write_xlsx(tmp / f"good-{period}.xlsx", {"Әңгімелесу": outreach_sheet(month, [("Медеу", "ислам", 5, 9)])})
    return bad.read_bytes(), good.read_bytes()


class _Records(logging.Handler):
    """Every log record of the module, formatted as a handler would write it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def handle(self, record):  # no filter: the record as the code logged it, before any handler's masking
        self.lines.append(record.getMessage())
        return True

    def emit(self, record):
        self.handle(record)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    home = Home.at(tmp_path_factory.mktemp("portal-home")).ensure()
    accounts = Accounts(home.root)
    accounts.add("alma", PASSWORDS["alma"], office="almaty")
    accounts.add("turk", PASSWORDS["turk"], office="turkistan")
    accounts.add("eng", PASSWORDS["eng"], office=None)
    accounts.add("locky", PASSWORDS["locky"], office="almaty")
    records = _Records()
    root = logging.getLogger()
    root.addHandler(records)
    levels = {n: logging.getLogger(n).level for n in ("pcve", "uvicorn")}
    for n in levels:
        logging.getLogger(n).setLevel(logging.INFO)
    app = create_app(Settings(home=home.root, signing_key=b"test-key" * 4))
    pages: list[str] = []  # every page a test fetched, for the privacy sweep at the end
    yield {"home": home, "app": app, "records": records, "pages": pages, "tmp": tmp_path_factory.mktemp("wb")}
    root.removeHandler(records)
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


@pytest.fixture(scope="module")
def turkistan_submission(portal):
    """A Turkistan submission in the ledger (its blank template: accepted, counts zero), made by an engineer."""
    from ingest.template import write_template

    eng = _login(portal["app"], "eng")
    data = write_template(CFG, "turkistan", "2025-Q1", portal["tmp"] / "t.xlsx").read_bytes()
    r = _upload(eng, "turkistan", "turkistan_2025-Q1.xlsx", data)
    uid = _uid(r)
    # an upload of Turkistan's not yet submitted: another office must not reach it either
    pending = _uid(_upload(eng, "turkistan", "turkistan_2025-Q2.xlsx", data))
    assert _submit(eng, "turkistan", uid).status_code == 200
    intake(portal["home"].root, only_offices=["turkistan"])
    state = L.LedgerState.load(portal["home"].ledger)
    (sub,) = [s for s in state.submissions.values() if s.office == "turkistan"]
    assert sub.status == "accepted"
    return {"submission_id": sub.submission_id, "pending_upload": pending}


# ---------------------------------------------------------------- sessions and forms
@pytest.mark.e2e
def test_visitor_gets_the_login_form_with_security_headers(portal):
    c = _client(portal["app"])
    r = c.get("/")
    assert r.status_code == 200 and 'action="/login"' in r.text and 'name="password"' in r.text
    for path in ("/", "/office/almaty", "/static/portal.css", "/nowhere"):
        h = c.get(path, follow_redirects=False).headers
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src" not in h["content-security-policy"]  # default-src 'none': no script at all
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    # no page of the portal carries a script or an inline handler
    assert "<script" not in r.text.lower() and not re.search(r"\son\w+=", r.text)
    # a visitor without a session is sent to the login form, never shown an office
    assert c.get("/office/almaty", follow_redirects=False).status_code == 303


@pytest.mark.e2e
def test_session_cookie_is_signed_httponly_samesite_strict(portal):
    c = _client(portal["app"])
    tok = _csrf(c.get("/").text)
    r = c.post("/login", data={"csrf": tok, "name": "alma", "password": PASSWORDS["alma"]}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert c.get("/office/almaty").status_code == 200
    # a cookie altered by one character is no session
    value = c.cookies.get(COOKIE)
    forged = _client(portal["app"])
    forged.cookies.set(COOKIE, value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1])
    assert forged.get("/office/almaty", follow_redirects=False).status_code == 303
    # logout voids the cookie everywhere: replaying the old one finds no session
    replay = _client(portal["app"])
    replay.cookies.set(COOKIE, value)
    assert c.post("/logout", data={"csrf": _csrf(c.get("/office/almaty").text)}, follow_redirects=False).status_code == 303
    assert replay.get("/office/almaty", follow_redirects=False).status_code == 303


@pytest.mark.e2e
def test_every_form_post_without_a_valid_csrf_token_is_refused(portal, tmp_path):
    home = portal["home"]
    c = _login(portal["app"], "alma")
    _, good = _bad_and_good(tmp_path)
    before = sorted(p.name for p in (home.inbox / "almaty").glob("*"))
    for token in (None, "", "forged-token"):
        data = {} if token is None else {"csrf": token}
        assert c.post("/logout", data=data).status_code == 403
        assert c.post("/office/almaty/upload", data=data,
                      files={"file": ("almaty_2017-03.xlsx", good)}).status_code == 403
    # a real upload, then its submit without the token: refused, nothing placed in the source
    uid = _uid(_upload(c, "almaty", "almaty_2017-03.xlsx", good))
    assert c.post(f"/office/almaty/check/{uid}/submit", data={}).status_code == 403
    assert c.post(f"/office/almaty/check/{uid}/submit", data={"csrf": "x" * 43}).status_code == 403
    assert sorted(p.name for p in (home.inbox / "almaty").glob("*")) == before
    # the login form too: a token from another visitor's page does not do
    other = _client(portal["app"])
    theirs = _csrf(other.get("/").text)
    mine = _client(portal["app"])
    mine.get("/")
    r = mine.post("/login", data={"csrf": theirs, "name": "alma", "password": PASSWORDS["alma"]})
    assert r.status_code == 403
    assert c.get("/office/almaty").status_code == 200  # still logged in: the refused logout did nothing


@pytest.mark.e2e
def test_lock_out_after_repeated_failed_logins(portal):
    from pcve.portal.accounts import LOCKOUT_SECONDS, MAX_FAILED

    def attempt(password: str) -> int:
        c = _client(portal["app"])
        tok = _csrf(c.get("/").text)
        return c.post("/login", data={"csrf": tok, "name": "locky", "password": password},
                      follow_redirects=False).status_code

    for _ in range(MAX_FAILED):
        assert attempt("wrong password!") == 401
    assert attempt(PASSWORDS["locky"]) == 401  # locked: the right password does not open it
    assert any("locky" in u["name"] and u["locked"] for u in Accounts(portal["home"].root).listing())
    accounts = Accounts(portal["home"].root)
    assert accounts.authenticate("locky", PASSWORDS["locky"]) is None
    # the lock ends by itself after LOCKOUT_SECONDS, or at once by `pcve portal unlock`
    import time

    assert accounts.authenticate("locky", PASSWORDS["locky"], now=time.time() + LOCKOUT_SECONDS + 1) is not None
    for _ in range(MAX_FAILED):
        attempt("wrong again!!")
    res = CliRunner().invoke(_cli(), ["portal", "unlock", "locky", "--home", str(portal["home"].root)])
    assert res.exit_code == 0, res.output
    assert attempt(PASSWORDS["locky"]) == 303
    # an unknown name gets the same answer as a wrong password
    c = _client(portal["app"])
    r = c.post("/login", data={"csrf": _csrf(c.get("/").text), "name": "nobody", "password": "x" * 12})
    assert r.status_code == 401 and 'id="login-failed"' in r.text


def _cli():
    from pcve.cli import main

    return main


def test_add_user_reads_the_password_from_stdin_and_stores_only_a_hash(tmp_path):
    res = CliRunner().invoke(_cli(), ["portal", "add-user", "clerk1", "--office", "almaty", "--home", str(tmp_path)],
                             input="a long enough secret\n")
    assert res.exit_code == 0, res.output
    users = tmp_path / "portal" / "users.json"
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    text = users.read_text()
    assert "a long enough secret" not in text and "$argon2id$" in text
    assert Accounts(tmp_path).authenticate("clerk1", "a long enough secret").office == "almaty"
    # no password option exists at all; both roles at once, or none, is a usage error
    for args in (["--password", "x"], ["--office", "almaty", "--engineer"], []):
        bad = CliRunner().invoke(_cli(), ["portal", "add-user", "clerk2", "--home", str(tmp_path), *args], input="p" * 12)
        assert bad.exit_code == 2, (args, bad.output)
    short = CliRunner().invoke(_cli(), ["portal", "add-user", "clerk3", "--engineer", "--home", str(tmp_path)], input="short\n")
    assert short.exit_code == 2 and "characters" in short.output


# ---------------------------------------------------------------- one office never sees another
@pytest.mark.e2e
def test_an_office_user_cannot_reach_another_office_by_guessing(portal, turkistan_submission):
    alma, eng = _login(portal["app"], "alma"), _login(portal["app"], "eng")
    sid, pending = turkistan_submission["submission_id"], turkistan_submission["pending_upload"]
    urls = ["/office/turkistan", "/office/turkistan/upload", "/office/turkistan/template?period=2025-Q1",
            f"/office/turkistan/report/{sid}/receipt", f"/office/turkistan/check/{pending}"]
    for url in urls:
        assert eng.get(url).status_code == 200, url  # the URLs are real: an engineer gets them
        assert alma.get(url).status_code == 404, url
    # Turkistan's submission id under Almaty's own path: as unknown as any other id
    assert alma.get(f"/office/almaty/report/{sid}/receipt").status_code == 404
    assert alma.get(f"/office/almaty/check/{pending}").status_code == 404
    tok = _csrf(alma.get("/office/almaty").text)
    for path in (f"/office/turkistan/check/{pending}/submit", f"/office/almaty/check/{pending}/submit"):
        assert alma.post(path, data={"csrf": tok}).status_code == 404
    assert alma.post("/office/turkistan/upload", data={"csrf": tok},
                     files={"file": ("turkistan_2025-Q2.xlsx", b"x")}).status_code == 404
    # the pending upload is still there, unsubmitted
    assert S.Uploads(portal["home"].root).meta("turkistan", pending) is not None
    # Almaty's own pages list nothing of Turkistan's
    page = alma.get("/office/almaty").text
    assert sid not in page and "turkistan_2025" not in page
    assert alma.get("/", follow_redirects=False).headers["location"] == "/office/almaty"
    assert "/office/turkistan" in eng.get("/").text


# ---------------------------------------------------------------- upload limits and names
@pytest.mark.e2e
def test_oversized_upload_is_refused_before_it_is_stored(portal):
    assert Settings(home=portal["home"].root, signing_key=b"k").max_upload_bytes == MAX_FILE_BYTES  # intake's limit
    home = portal["home"]
    small = create_app(Settings(home=home.root, signing_key=b"test-key" * 4, max_upload_bytes=20_000))
    c = _login(small, "alma")
    before = sorted(p.name for p in (home.inbox / "almaty").glob("*"))
    uploads = home.root / "portal" / "uploads" / "almaty"
    held = set(uploads.iterdir()) if uploads.exists() else set()
    r = _upload(c, "almaty", "almaty_2017-03.xlsx", b"PK" + b"\0" * 200_000)
    assert r.status_code == 413
    assert "larger than intake accepts" in r.text and r.headers["x-content-type-options"] == "nosniff"
    # the same without a Content-Length (chunked): cut off once the limit is passed
    tok = _csrf(c.get("/office/almaty/upload").text)
    b = "----pcve-chunked"

    def body():
        yield (f'--{b}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{tok}\r\n--{b}\r\n'
               'Content-Disposition: form-data; name="file"; filename="almaty_2017-03.xlsx"\r\n\r\n').encode()
        for _ in range(100):
            yield b"\0" * 4096
        yield f"\r\n--{b}--\r\n".encode()

    r = c.post("/office/almaty/upload", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    assert r.status_code == 413 and "content-length" not in {k.lower() for k in r.request.headers}
    assert sorted(p.name for p in (home.inbox / "almaty").glob("*")) == before
    assert (set(uploads.iterdir()) if uploads.exists() else set()) == held


@pytest.mark.e2e
def test_names_with_dotdot_nul_or_300_bytes_are_refused_or_stored_safely(portal, tmp_path):
    home = portal["home"]
    c = _login(portal["app"], "alma")
    _, good = _bad_and_good(tmp_path, "2017-04")
    for name, why in (("almaty_2017-04.xlsx\x00.csv", "NUL"), ("а" * 150 + "_2017-04.xlsx", "255 bytes"),
                      ("almaty_2017-04.exe", ".exe"), ("almaty_2017-04.xlsm", ".xlsm")):
        r = _raw_upload(c, "almaty", name.encode(), good)
        assert r.status_code == 400 and 'id="refused"' in r.text, name
        assert why in r.text
    r = _upload(c, "almaty", "../../../outside_2017-04.xlsx", good)
    assert r.status_code == 303
    assert _submit(c, "almaty", _uid(r)).status_code == 200
    assert (home.inbox / "almaty" / "outside_2017-04.xlsx").read_bytes() == good
    assert [p for p in home.root.parent.rglob("outside*")] == [home.inbox / "almaty" / "outside_2017-04.xlsx"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
       | st.builds(lambda a, b: a + b, st.sampled_from(["../", "..\\", "/etc/", "C:\\", f"{IIN} ", f"{PHONE} "]),
                   st.text(max_size=40).map(lambda t: t + "_2017-03.xlsx")))
@pytest.mark.slow
def test_clean_name_invariants(raw):
    try:
        name = S.clean_name(raw)
    except S.NameRefused:
        return
    assert "/" not in name and "\\" not in name and "\x00" not in name and name not in (".", "..")
    assert len(name.encode()) <= S.MAX_NAME_BYTES - 8
    assert Path(name).suffix.lower() in SUPPORTED_EXT
    assert privacy_rule(name) is None  # no IIN or phone survives in a stored name


def test_a_clash_gets_a_suffix_and_nothing_is_overwritten(tmp_path):
    src = tmp_path / "src"
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_bytes(b"first"), b.write_bytes(b"second"), c.write_bytes(b"third")
    names = [S.place_in_source(str(src), "almaty_2017-03.xlsx", f) for f in (a, b, c)]
    assert names == ["almaty_2017-03.xlsx", "almaty_2017-03~2.xlsx", "almaty_2017-03~3.xlsx"]
    assert [(src / n).read_bytes() for n in names] == [b"first", b"second", b"third"]
    assert sorted(p.name for p in src.iterdir()) == sorted(names)  # no temp file left behind


def test_a_remote_source_gets_the_same_names(tmp_path):
    """A source behind fsspec (sftp://, s3://; here fsspec's in-memory file system): the same
    suffix on a clash, nothing overwritten, no part file left."""
    import fsspec

    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"first"), b.write_bytes(b"second")
    location = "memory://pcve-portal-test/inbox/almaty"
    names = [S.place_in_source(location, "almaty_2017-03.xlsx", f) for f in (a, b)]
    assert names == ["almaty_2017-03.xlsx", "almaty_2017-03~2.xlsx"]
    fs = fsspec.filesystem("memory")
    assert [fs.cat(f"/pcve-portal-test/inbox/almaty/{n}") for n in names] == [b"first", b"second"]
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls("/pcve-portal-test/inbox/almaty", detail=False)) == names


# ---------------------------------------------------------------- the check
@pytest.mark.e2e
def test_the_check_is_pcve_validate_and_speaks_kk_ru_en(portal, tmp_path):
    bad, _ = _bad_and_good(tmp_path)
    (tmp_path / "almaty_2017-03.xlsx").write_bytes(bad)
    res = CliRunner().invoke(_cli(), ["validate", str(tmp_path / "almaty_2017-03.xlsx"), "--office", "almaty", "--json"])
    assert res.exit_code == 4, res.output
    cli = json.loads(res.output)
    c = _login(portal["app"], "alma")
    uid = _uid(_upload(c, "almaty", "almaty_2017-03.xlsx", bad))
    for lang in ("kk", "ru", "en"):
        page = c.get(f"/office/almaty/check/{uid}?lang={lang}").text
        portal["pages"].append(page)
        table = re.findall(r'<td class="cell"><code>(.*?)</code></td>.*?<td class="message" lang="(\w+)">(.*?)</td>'
                           r'<td class="rule">(.*?)</td>', page, re.S)
        assert [(html.unescape(cell), rule) for cell, _, _, rule in table] == [(i["cell"], i["rule"]) for i in cli["issues"]]
        assert {lg for _, lg, _, _ in table} == {lang}
        assert UI["failed"][lang] in page and UI["submit_anyway"][lang] in page  # the page around it too
        if lang != "en":  # the CLI's own bilingual texts, verbatim
            assert [html.unescape(m) for _, _, m, _ in table] == [i[f"message_{lang}"] for i in cli["issues"]]
    en = c.get(f"/office/almaty/check/{uid}?lang=en").text
    assert MESSAGES["not_a_number"]["en"].format(value="бес").replace('"', "&#34;") in en
    assert "Әңгімелесу!D4" in en


def test_every_rule_has_an_english_text():
    assert all(set(texts) >= {"kk", "ru", "en"} for texts in MESSAGES.values())


# ---------------------------------------------------------------- submit, receipt, Airflow
def test_next_intake_follows_the_dag_schedule():
    dag = (Path(__file__).resolve().parents[1] / "dags" / "office_intake.py").read_text(encoding="utf-8")
    # one setting for both: PCVE_INTAKE_SCHEDULE, with the same default
    assert re.search(r'os\.getenv\("PCVE_INTAKE_SCHEDULE", "([^"]+)"\)', dag)[1] == S.INTAKE_SCHEDULE
    assert S.next_intake(schedule="none") is None
    at = datetime(2026, 12, 4, 7, 0, tzinfo=ALMATY_TZ)
    assert S.next_intake(at, "0 6 * * *") == datetime(2026, 12, 5, 6, 0, tzinfo=ALMATY_TZ)
    assert S.next_intake(at.replace(hour=5), "0 6 * * *") == datetime(2026, 12, 4, 6, 0, tzinfo=ALMATY_TZ)




class _FakeAirflow(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers.get("Authorization"), body))
        if self.path == "/auth/token":
            ok = body == {"username": "portal", "password": "airflow-secret"}
            payload, code = ({"access_token": "tok123"}, 201) if ok else ({"detail": "bad"}, 401)
        elif self.path == "/api/v2/dags/office_intake/dagRuns" and self.headers.get("Authorization") == "Bearer tok123":
            payload, code = {"dag_run_id": "manual__portal_1", "state": "queued"}, 200
        else:
            payload, code = {"detail": "no"}, 403
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.mark.e2e
def test_submit_triggers_office_intake_through_the_airflow_rest_api(portal, tmp_path):
    port = free_port(38900, 99)
    server = http.server.HTTPServer(("127.0.0.1", port), _FakeAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        home = portal["home"]
        app = create_app(Settings(home=home.root, signing_key=b"test-key" * 4, airflow_url=f"http://127.0.0.1:{port}/",
                                  airflow_user="portal", airflow_password="airflow-secret"))
        c = _login(app, "alma")
        _, good = _bad_and_good(tmp_path, "2017-05")
        r = _submit(c, "almaty", _uid(_upload(c, "almaty", "almaty_2017-05.xlsx", good)))
        assert r.status_code == 200 and "manual__portal_1" in r.text and "airflow-secret" not in r.text
        assert [p for p, _, _ in _FakeAirflow.seen] == ["/auth/token", "/api/v2/dags/office_intake/dagRuns"]
        assert _FakeAirflow.seen[1][1] == "Bearer tok123"
        assert _FakeAirflow.seen[1][2]["conf"] == {"offices": ["almaty"]}
        # Airflow refusing: the file is in the source anyway, and the receipt names the schedule
        app.state.settings.airflow_password = "wrong"
        _, good = _bad_and_good(tmp_path, "2017-06")
        r = _submit(c, "almaty", _uid(_upload(c, "almaty", "almaty_2017-06.xlsx", good)))
        assert r.status_code == 200 and "HTTP 401" in r.text and 'id="next-intake"' in r.text
        assert (home.inbox / "almaty" / "almaty_2017-06.xlsx").exists()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.e2e
def test_submit_then_intake_shows_on_the_office_page(portal, tmp_path):
    home = portal["home"]
    c = _login(portal["app"], "alma")
    bad, _ = _bad_and_good(tmp_path, "2017-07")
    _, good = _bad_and_good(tmp_path, "2017-08")
    # a rejected check can be submitted: the receipt says so
    r = _submit(c, "almaty", _uid(_upload(c, "almaty", "almaty_2017-07.xlsx", bad)))
    assert r.status_code == 200 and 'id="submitted-with-errors"' in r.text
    nxt = S.next_intake().strftime("%Y-%m-%d %H:%M")
    assert nxt in r.text.split('id="next-intake"')[1].split("</p>")[0]
    r = _submit(c, "almaty", _uid(_upload(c, "almaty", "almaty_2017-08.xlsx", good)))
    assert "almaty_2017-08.xlsx" in c.get("/office/almaty").text.split('id="waiting"')[1]
    intake(home.root, only_offices=["almaty"])
    page = c.get("/office/almaty").text
    portal["pages"].append(page)
    state = L.LedgerState.load(home.ledger)
    by_name = {s.file_name: s for s in state.submissions.values() if s.office == "almaty"}
    rejected, accepted = by_name["almaty_2017-07.xlsx"], by_name["almaty_2017-08.xlsx"]
    assert rejected.status == "rejected" and accepted.status == "accepted"
    row = re.search(rf"<tr class=\"(\w+)\"><td>{rejected.submission_id}</td>.*?</tr>", page, re.S)
    assert row[1] == "rejected" and "not_a_number" in row[0]
    assert re.search(rf"<tr class=\"accepted\"><td>{accepted.submission_id}</td>", page)
    # its reports, downloadable by the office: the same bytes intake wrote back to the source
    reports = home.inbox / "almaty" / "_reports"
    got = c.get(f"/office/almaty/report/{rejected.submission_id}/errors-csv")
    assert got.status_code == 200 and got.content == (reports / "almaty_2017-07.xlsx.errors.csv").read_bytes()
    assert "attachment" in got.headers["content-disposition"]
    got = c.get(f"/office/almaty/report/{accepted.submission_id}/receipt")
    assert got.content == (reports / "almaty_2017-08.xlsx.receipt.html").read_bytes()
    assert c.get(f"/office/almaty/report/{accepted.submission_id}/errors-html").status_code == 404
    # periods due and overdue: pcve status's own list, with its deadlines
    from pcve.status import status

    missing = status(home.root)["offices"]["almaty"]["missing"]
    shown = re.findall(r'<tr class="(overdue|due)"><td>([^<]+)</td><td>([^<]+)</td>', page)
    assert sorted((p, d, o == "overdue") for o, p, d in shown) == sorted(
        (m["period"], m["due"], m["overdue"]) for m in missing)
    assert "2017-08" not in [p for _, p, _ in shown]  # the accepted period is owed no more


@pytest.mark.e2e
def test_blank_template_download_passes_the_check(portal, tmp_path):
    from pcve.check import check_file

    c = _login(portal["app"], "alma")
    r = c.get("/office/almaty/template?period=2017-09")
    assert r.status_code == 200 and "almaty_2017-09.xlsx" in r.headers["content-disposition"]
    (tmp_path / "t.xlsx").write_bytes(r.content)
    assert check_file("almaty", tmp_path / "t.xlsx", "almaty_2017-09.xlsx")["errors"] == 0
    assert c.get("/office/almaty/template?period=2025-Q1").status_code == 400  # Almaty reports by month
    assert c.get("/office/almaty/template?period=../../x").status_code == 400


# ---------------------------------------------------------------- privacy
@pytest.mark.e2e
def test_a_planted_identifier_never_reaches_a_page_a_log_or_a_stored_name(portal, tmp_path):
    home = portal["home"]
    c = _login(portal["app"], "alma")
    grid = [["Алматы қаласы бойынша есеп"], [], EVENTS_KK,
            ["05.10.2017", "Медеу", "семинар", f"Қатысушы ЖСН {IIN}", "жастар", None, None, 10, 5, 2],
            ["06.10.2017", "Медеу", "семинар", f"тел. {PHONE}", "жастар", None, None, 12, 5, 2]]
    data = write_xlsx(tmp_path / "p.xlsx", {"Іс-шаралар": grid}).read_bytes()
    name = f"almaty_2017-10_{IIN}_{PHONE}.xlsx"
    r = _upload(c, "almaty", name, data)
    uid = _uid(r)
    for lang in ("kk", "ru", "en"):
        page = c.get(f"/office/almaty/check/{uid}?lang={lang}").text
        portal["pages"].append(page)
        assert "privacy_iin" in page and "privacy_phone" in page  # caught, located ...
    receipt = _submit(c, "almaty", uid).text
    portal["pages"].append(receipt)
    stored = re.search(r'id="stored-name">([^<]+)<', receipt)[1]
    assert (home.inbox / "almaty" / stored).exists() and "IIN" in stored
    intake(home.root, only_offices=["almaty"])
    portal["pages"].append(c.get("/office/almaty").text)
    portal["pages"].append(_login(portal["app"], "eng").get("/").text)
    # ... and never repeated: pages, log records, names of every file under the home, and the
    # text the portal or intake wrote (ledger, accounts, receipts, reports)
    digits = re.compile(rf"{IIN}|{PHONE_DIGITS}|{re.escape(PHONE)}")
    for page in portal["pages"]:
        assert not digits.search(page)
    assert portal["records"].lines and not [m for m in portal["records"].lines if digits.search(m)]
    for p in home.root.rglob("*"):
        assert not digits.search(p.name), p
        if p.is_file() and p.suffix in (".json", ".jsonl", ".html", ".csv") or p.name == "ledger.jsonl":
            assert not digits.search(p.read_text(encoding="utf-8", errors="replace")), p
