#!/usr/bin/env bash
# run.sh start|stop|status - the embedded mode of Guichet (make run / make stop).
#
# start: installs missing Debian packages (deploy/install-deps.sh), then
#        starts PostgreSQL, Redis, the SMTP catcher, the bus, every service and
#        the gateway under var/ (var/pg, var/redis, var/mail, var/logs, pids in
#        var/run), loads the demo users, prints URLs and logins, and returns;
#        the processes keep running. Built binaries come from $BUILD (build).
# stop:  stops them all (var/run pid files, then pg_ctl stop).
#
# Ports (environment): GCH_HTTP_PORT 8080, GCH_SMTP_PORT 2525,
# GCH_MAIL_HTTP_PORT 8025, GCH_BUS_PORT 5670, GCH_PG_PORT 5433,
# GCH_REDIS_PORT 6380. Other GCH_* variables (docs/architecture.md) are
# passed to every process.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

case "${1:-}" in
    start)
        bash deploy/install-deps.sh
        exec "$PY" deploy/stack.py run --root var --build "$BUILD"
        ;;
    stop)
        exec "$PY" deploy/stack.py stop --root var
        ;;
    status)
        exec "$PY" deploy/stack.py status --root var
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
