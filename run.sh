#!/usr/bin/env bash
# One entry point: set everything up (idempotent) and then run what was asked.
#   ./run.sh app     set up, build the index from corpus/ and start the web app
#   ./run.sh test    set up and run the whole test suite
#   ./run.sh bench   set up and print the benchmark table
#   ./run.sh setup   only set up .venv/
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-app}"
shift || true

setup() {
    local py="${PYTHON:-}"
    if [ -z "$py" ]; then
        for cand in python3.11 python3; do
            if command -v "$cand" >/dev/null 2>&1; then py="$cand"; break; fi
        done
    fi
    [ -n "$py" ] || { echo "setup: Python 3.11 is required" >&2; exit 1; }
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    local stamp=".venv/.setup-stamp"
    local want
    want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "setup: installing into .venv/ (first run takes a few minutes)" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first, the CPU build, or a dependency would pull a multi-GB CUDA build.
    .venv/bin/python -m pip install -q "torch==2.13.0"
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
    echo "$want" > "$stamp"
}

ensure_browser() {
    # The browser tests drive Debian's chromium (with a CJK font so pages render readable screenshots).
    if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
        return 0
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium and a CJK font (apt-get)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    else
        echo "setup: the browser tests need Debian's chromium and fonts-wqy-microhei (apt-get install them as root)" >&2
    fi
}

setup
case "$what" in
    setup) ;;
    app) exec .venv/bin/python app.py "$@" ;;
    test)
        ensure_browser
        # The dependency audit runs with the whole suite (not when a subset of tests is named).
        [ "$#" -eq 0 ] && .venv/bin/python .ci/audit.py
        exec .venv/bin/python -m pytest "$@" ;;
    bench) exec .venv/bin/python benchmarks/bench.py "$@" ;;
    *) echo "usage: ./run.sh [app|test|bench|setup] [args...]" >&2; exit 2 ;;
esac
