"""The office portal in a real browser: Debian's chromium driven by Selenium (chromium-driver)
against `pcve serve` started as a real uvicorn server on a loopback port.

A clerk logs in, uploads a broken workbook, reads the located errors (and switches them to
English), uploads the fixed one, submits it; the intake runs (in-process, the library function
the DAG calls) and the office page shows the submission accepted.

Screenshots of the pages: set PCVE_PORTAL_SCREENSHOTS=<folder> (README's come from here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ingest.messages import MESSAGES
from pcve import pipeline
from tests.servers import free_port
from tests.workbooks import outreach_sheet, write_xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "clerk-password-1"
REPO = Path(__file__).resolve().parents[1]


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if not found:
        pytest.fail(f"{name} is not installed: run `scripts/install-system-deps.sh` (Debian packages chromium "
                    "and chromium-driver)", pytrace=False)
    return found




@pytest.fixture(scope="session")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("portal-browser-home")
    pcve = [sys.executable, "-m", "pcve.cli"]
    env = {**os.environ, "PCVE_HOME": str(home)}
    added = subprocess.run([*pcve, "portal", "add-user", "clerk", "--office", "almaty", "--home", str(home)],
                           input=PASSWORD + "\n", capture_output=True, text=True, env=env, cwd=REPO)
    assert added.returncode == 0, added.stderr
    port = free_port(38000, 900)
    log = home / "portal.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*pcve, "serve", "--home", str(home), "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"pcve serve did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    yield {"base": base, "home": home, "log": log}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = _binary("chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1000", "--lang=kk"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(_binary("chromedriver")), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver, name: str) -> None:
    folder = os.getenv("PCVE_PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def _wait(driver, element_id: str):
    """The element, once the page that has it is loaded (a click that submits a form returns
    before the next page is there)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, element_id)))


def test_clerk_uploads_fixes_submits_and_sees_it_accepted(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    d, base, home = browser, server["base"], server["home"]
    name = "almaty_2017-03.xlsx"
    bad = write_xlsx(tmp_path / "draft" / name,
                     {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", "бес", 9), ("Алмалы", "ислам", 4, 7)])})
    good = write_xlsx(tmp_path / "fixed" / name,
                      {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9), ("Алмалы", "ислам", 4, 7)])})

    d.get(base + "/")
    _shot(d, "login")
    d.find_element(By.ID, "name").send_keys("clerk")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "login").click()
    _wait(d, "upload-link")
    assert d.current_url == base + "/office/almaty"

    # the broken workbook: its error located by cell, in the office's language, then in English
    d.find_element(By.ID, "upload-link").click()
    _wait(d, "file").send_keys(str(bad))
    d.find_element(By.ID, "check").click()
    assert "bad" in _wait(d, "verdict").get_attribute("class")
    rows = d.find_elements(By.CSS_SELECTOR, "#issues tr.error")
    located = [(r.find_element(By.CSS_SELECTOR, "td.cell").text, r.find_element(By.CSS_SELECTOR, "td.rule").text,
                r.find_element(By.CSS_SELECTOR, "td.message").text) for r in rows]
    assert located == [("Әңгімелесу!D4", "not_a_number", MESSAGES["not_a_number"]["kk"].format(value="бес"))]
    _shot(d, "check")
    d.find_element(By.ID, "lang-en").click()
    _wait(d, "lang-kk")  # the English page links back to Kazakh
    assert d.find_element(By.CSS_SELECTOR, "#issues tr.error td.message").text == \
        MESSAGES["not_a_number"]["en"].format(value="бес")

    # the fixed one passes and is submitted
    d.find_element(By.ID, "upload-another").click()
    _wait(d, "file").send_keys(str(good))
    d.find_element(By.ID, "check").click()
    assert "good" in _wait(d, "verdict").get_attribute("class")
    assert not d.find_elements(By.CSS_SELECTOR, "#issues tr.error")
    d.find_element(By.ID, "submit").click()
    assert _wait(d, "stored-name").text == name
    assert "next intake runs at" in d.find_element(By.ID, "next-intake").text
    placed = home / "inbox" / "almaty" / name
    assert placed.read_bytes() == good.read_bytes()

    # intake pulls it from the source, as the scheduled DAG would; the page shows the decision
    result = pipeline.intake(home, only_offices=["almaty"])
    assert [a["file"] for a in result["offices"]["almaty"]["accepted"]] == [name]
    d.find_element(By.ID, "office-link").click()
    _wait(d, "submissions")
    row = d.find_element(By.CSS_SELECTOR, "#submissions tr.accepted")
    assert name in row.text and "accepted" == row.find_element(By.CSS_SELECTOR, "td.status").text
    assert "2017-03" not in [r.find_element(By.CSS_SELECTOR, "td").text
                             for r in d.find_elements(By.CSS_SELECTOR, "#missing tr.overdue, #missing-earlier tr.overdue")]
    _shot(d, "office")

    d.find_element(By.ID, "logout").click()
    assert _wait(d, "password")  # back to the login form
    assert PASSWORD not in server["log"].read_text(errors="replace")
