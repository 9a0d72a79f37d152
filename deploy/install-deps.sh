#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages Guichet needs to build,
# test and run. Idempotent: a machine that already has every package does no
# network access at all (checked with dpkg-query first).
#
#   bash deploy/install-deps.sh          (as root; `make run` and .ci/run call it)
#
# The postgresql package may create and start a system cluster
# (/var/lib/postgresql/15/main, port 5432) on some installs. Guichet does not
# use it: `make run` and the tests run their own clusters under var/ or a
# temporary folder, on other ports. We leave that cluster alone.
set -euo pipefail

PACKAGES=(
    # build
    build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev
    libczmq-dev libzmq3-dev libpq-dev libhiredis-dev libmicrohttpd-dev
    libjansson-dev libsodium-dev libcurl4-openssl-dev clang-format
    # run
    postgresql postgresql-contrib redis-server
    # tests, SMTP catcher, benchmark, operations
    python3 python3-aiosmtpd curl ca-certificates wrk nginx-light procps
    iproute2 docker-compose
    # the official JSON Schema test suite (draft 2020-12), for gch_jsonschema
    libtest-json-schema-acceptance-perl
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    # "ii " = installed; anything else (absent, half-installed, rc) = missing
    if [[ "$status" != ii* ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: every package is installed"
    exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: these Debian packages are needed; run as root:" >&2
    echo "    sudo bash deploy/install-deps.sh" >&2
    echo "or install them yourself:" >&2
    echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
