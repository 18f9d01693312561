#!/usr/bin/env bash
# Re-resolves the test toolchain and writes the exact versions to constraints/test.txt, the file
# scripts/test.sh installs with. Run it on purpose, to take new releases: it installs
# `-e '.[test]'` with no constraints into a throwaway venv (the ranges in pyproject.toml decide,
# as they do for users) and freezes what came in. Then run `bash .ci/run` in a fresh venv, fix
# what the new versions break, and commit the file with the fixes.
# PYTHON picks the interpreter (default python3); the pins are for its version and this platform.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
venv_python="$scratch/venv/bin/python"
# torch stays at the CPU build the test script installs (a range alone could pull a CUDA build of
# several GB); change this pin on purpose, together with the one it writes below.
"$venv_python" -m pip install --quiet --disable-pip-version-check torch==2.13.0
"$venv_python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
where=$("$venv_python" -c 'import platform; print("Python", platform.python_version(), platform.system(), platform.machine())')
out=constraints/test.txt
{
    echo "# The test toolchain, pinned: every package \`pip install -e '.[test]'\` resolved to"
    echo "# (personae itself left out), frozen on $(date -u +%Y-%m-%d) with $where."
    echo "# scripts/test.sh installs with \`-c\` this file; users get the ranges in pyproject.toml."
    echo "# Regenerate with \`bash scripts/refresh-pins.sh\`; do not edit by hand."
    # pip, setuptools and wheel are left out by pip freeze: they belong to the venv, not to us.
    "$venv_python" -m pip freeze --exclude-editable --disable-pip-version-check \
        | grep -v -i '^personae[ =@]'
} >"$out.new"
mv "$out.new" "$out"
echo "wrote $out ($(grep -c -v '^#' "$out") packages)"
