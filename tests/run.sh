#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, then runs every test suite.
#   Python packages (the project with its test extras), npm packages, Debian's Chromium and
#   Firefox ESR for the browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

need=()
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== extension lint (web-ext) =="
npx web-ext lint --source-dir extension --self-hosted

echo "== JS unit tests (node --test) =="
if compgen -G "tests/js/*.test.js" >/dev/null; then
  node --test tests/js/
fi

echo "== Python tests (pytest, browser tests included) =="
python3 -m pytest -n 2 --junitxml=.pytest-results.xml "$@"
