#!/usr/bin/env bash
# The test command: installs personae with its test tools at the versions pinned in
# constraints/test.txt (into whichever Python is active: PYTHON, else python, else python3;
# use a virtual environment), Debian's Chromium (and a Hangul font, so the page's screenshot
# shows Korean) for the web page's browser test — never a browser download of Playwright's own —
# then runs the suite. Tests marked `slow` are skipped unless --run-slow is given. The suite
# starts its own PostgreSQL (from the pinned pgserver wheel, which bundles PostgreSQL 16 with
# pgvector) on a temporary folder and a loopback port, and stops it at the end: every repository
# test runs on SQLite and on PostgreSQL. Under CI (CI set) a PostgreSQL that cannot start fails.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh --run-slow` or
# `bash scripts/test.sh tests/unit/test_cli.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
command -v "$python" >/dev/null || python=python3
# torch first, at its pin (the CPU build that lies on this machine's disk): installed as a
# dependency of the [train] extra, pip could take a CUDA build of several GB instead.
"$python" -m pip install --disable-pip-version-check -c constraints/test.txt torch
"$python" -m pip install --disable-pip-version-check -c constraints/test.txt -e '.[test]'
if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-nanum >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-nanum
    elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-nanum
    else
        echo "note: Debian's chromium is not installed (apt-get install chromium" \
            "chromium-driver), so the browser test will be skipped" >&2
    fi
fi
status=0
"$python" -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
    # pytest's "no tests collected": a path or -m expression that matches nothing is a failure.
    echo "error: pytest ran no tests (exit 5): check the paths and -m/-k expressions given" >&2
fi
exit "$status"
