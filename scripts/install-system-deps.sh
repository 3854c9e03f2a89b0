#!/usr/bin/env bash
# System packages the report and spreadsheet tests need (tests/test_report.py):
#   chromium                 headless browser that renders exports/<period>/report.html
#   chromium-driver          WebDriver for that chromium: the office portal's browser test (Selenium)
#   libreoffice-calc-nogui   headless LibreOffice that opens indicators.xlsx (soffice --convert-to)
#   fonts-dejavu-core        Cyrillic incl. the Kazakh letters (ә ғ қ ң ө ұ ү һ і) for the screenshots
#   openssh-server           a private sshd on loopback: the SFTP office source test (tests/test_remote_sources.py)
#   redis-server             the Celery broker of `make airflow-scale` (scripts/airflow-scale.sh)
#   python3-asyncpg          Airflow 3's async driver for its PostgreSQL metadata DB (`make airflow-scale`;
#                            not in uv.lock: pcve/app/airflow_runner.py offers this one module alone)
#
# Neither daemon is started as a system service: the tests and scripts run their own, on their own
# ports, as ordinary processes (a policy-rc.d stops the packages' postinst from starting them).
#
# Idempotent and fast when everything is present (no apt call at all). `apt-get update` runs only
# when a package has no install candidate or an install attempt fails (stale lists).
# Debian/Ubuntu only; run as root or with sudo available. Used by `make setup` and `.ci/run`.
set -euo pipefail

PACKAGES=(chromium chromium-driver libreoffice-calc-nogui fonts-dejavu-core openssh-server redis-server python3-asyncpg)

have_all() {
    command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || return 1
    command -v chromedriver >/dev/null 2>&1 || [ -x /usr/bin/chromedriver ] || return 1
    command -v soffice >/dev/null 2>&1 || [ -x /usr/bin/soffice ] || return 1
    [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || return 1
    [ -x /usr/sbin/sshd ] || return 1
    command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || return 1
    [ -d /usr/lib/python3/dist-packages/asyncpg ] || return 1
}

if have_all; then
    echo "install-system-deps: chromium, chromedriver, soffice, fonts, sshd, redis-server and asyncpg present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: apt-get not found; install ${PACKAGES[*]} with your system's package manager" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
        echo "install-system-deps: need root (or sudo) to install ${PACKAGES[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive

needs_update() {
    # no lists at all, or a package without a candidate version
    compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || return 0
    local p policy
    for p in "${PACKAGES[@]}"; do
        policy=$(apt-cache policy "$p" 2>/dev/null || true)  # no pipe into grep -q: pipefail + SIGPIPE
        [[ $policy == *"Candidate: "[!\(]* ]] || return 0
    done
    return 1
}

install() {
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

# No system sshd on port 22 nor redis on 6379 from the packages' postinst: a temporary policy-rc.d
# (Debian's documented switch) forbids service starts during the install; an existing one is kept.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

start=$(date +%s)
if needs_update; then
    "${SUDO[@]}" apt-get update -q
    install
elif ! install; then
    # stale lists (a superseded security update is gone from the mirror): refresh once and retry
    "${SUDO[@]}" apt-get update -q
    install
fi
echo "install-system-deps: installed ${PACKAGES[*]} in $(( $(date +%s) - start ))s"
have_all
