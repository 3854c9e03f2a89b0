#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and the benchmark, on loopback only. Idempotent: run it as
# often as you like; it installs Debian's `postgresql` when missing (as root), initialises a
# cluster once, starts it unless it runs, creates role and database `pcve`, and prints the URL:
#
#   export PCVE_WAREHOUSE=$(scripts/start-postgres.sh)     # postgres://pcve:pcve@127.0.0.1:54329/pcve
#   scripts/start-postgres.sh stop                         # stop it (data kept for the next start)
#
# Settings (env): PCVE_PG_DIR (cluster + socket + log, default ${TMPDIR:-/tmp}/pcve-postgres),
# PCVE_PG_PORT (54329). The cluster trades durability for speed (fsync off): tests only.
# Everything but the URL goes to stderr, so the output can be captured as above.
set -euo pipefail

DIR=${PCVE_PG_DIR:-${TMPDIR:-/tmp}/pcve-postgres}
PORT=${PCVE_PG_PORT:-54329}
ROLE=pcve
PASSWORD=pcve
DB=pcve
URL="postgres://${ROLE}:${PASSWORD}@127.0.0.1:${PORT}/${DB}"

say() { echo "start-postgres: $*" >&2; }

pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
        pg_config --bindir
        return
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    return 1
}

if ! BIN=$(pg_bindir); then
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL is not installed: sudo apt-get update && sudo apt-get install -y postgresql"
        exit 1
    fi
    say "installing Debian's postgresql package"
    start=$(date +%s)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    say "installed in $(( $(date +%s) - start ))s"
    BIN=$(pg_bindir)
fi

# initdb and the server refuse to run as root: run them as the `postgres` user then.
if [ "$(id -u)" -eq 0 ]; then
    OWNER=postgres
    as_owner() { runuser -u "$OWNER" -- "$@"; }
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

DATA="$DIR/data"
LOG="$DIR/server.log"
PGCTL=("$BIN/pg_ctl" -D "$DATA")

if [ "${1:-}" = "stop" ]; then
    if [ -f "$DATA/postmaster.pid" ]; then as_owner "${PGCTL[@]}" -m fast -w stop >&2; fi
    exit 0
fi

mkdir -p "$DIR"
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown "$OWNER" "$DIR"

if [ ! -s "$DATA/PG_VERSION" ]; then
    say "initdb into $DATA"
    pwfile=$(mktemp)
    echo "$PASSWORD" > "$pwfile"
    chmod 644 "$pwfile"
    # local (socket) connections: trust, for this script's administration; TCP: passwords.
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >&2
    rm -f "$pwfile"
    cat >> "$DATA/postgresql.conf" <<EOF
# pcve test cluster (scripts/start-postgres.sh): loopback only, speed over durability
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
timezone = 'UTC'
EOF
fi

if ! as_owner "${PGCTL[@]}" status >/dev/null 2>&1; then
    say "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
    rm -f "$DATA/postmaster.pid"  # stale after a crash or a killed container
    as_owner "${PGCTL[@]}" -l "$LOG" -w -t 60 start >&2
fi

psql_admin() { as_owner "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_admin -c "select 1 from pg_roles where rolname = '$ROLE'")" != 1 ]; then
    psql_admin -c "create role $ROLE login createdb password '$PASSWORD'"
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname = '$DB'")" != 1 ]; then
    psql_admin -c "create database $DB owner $ROLE encoding 'UTF8' template template0"
fi
echo "$URL"
