#!/usr/bin/env bash
# The test command: installs personae with its test tools, Debian's Chromium (and a Hangul font,
# so the page's screenshot shows Korean) for the web page's browser test — never a browser
# download of Playwright's own — then runs the whole suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not integration"`.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -e '.[test]'
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
exec python -m pytest "$@"
