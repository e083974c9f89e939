#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, then runs every test suite.
#   Python packages (the project with its test extras), Debian's npm (and nodejs) when missing,
#   npm packages, Debian's Chromium and Firefox ESR for the browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# How to run apt as root: nothing as root, else sudo; without sudo, say what to install and stop.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then return; fi
  if command -v sudo >/dev/null; then echo sudo; return; fi
  echo "This needs Debian packages ($1) and you are not root and have no sudo:" >&2
  echo "install them as root (apt-get install $1), then run this again." >&2
  exit 1
}

# Debian's own python3 refuses system-wide pip installs (PEP 668): use a venv in the checkout then.
PY=python3
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ]; then
  if ! python3 -c "import ensurepip" 2>/dev/null; then
    SUDO="$(as_root python3-venv)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  PY=.venv/bin/python
  export PATH="$PWD/.venv/bin:$PATH"  # the tests start `cloutlens` and `python -m server.cli`
  echo "== using the venv .venv (this python3 is externally managed) =="
fi

need=()
command -v npm >/dev/null || need+=(npm)  # Debian's npm brings its nodejs
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
# the scorer's compiled reader (setup.py) needs a C compiler and Python's headers
command -v gcc >/dev/null || need+=(gcc)
"$PY" -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO="$(as_root "${need[*]}")"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

"$PY" -m pip install --quiet --disable-pip-version-check -e ".[test]"

# web-ext 10 (and the undici it loads) needs Node.js 20: on 18 its lint dies with
# "ReferenceError: File is not defined". Debian 12's own nodejs is 18; Debian 13's is 20.
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "Node.js $(node --version) is too old: the extension's tooling (web-ext) needs Node.js 20 or later." >&2
  echo "Debian 12 ships 18; install Node.js 20+ (Debian 13's nodejs, or NodeSource's) and run this again." >&2
  exit 1
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

echo "== extension lint (web-ext) =="
npx web-ext lint --source-dir extension --self-hosted

echo "== JS unit tests (node --test) =="
if compgen -G "tests/js/*.test.js" >/dev/null; then
  node --test tests/js/
fi

echo "== Python tests (pytest, browser tests included) =="
"$PY" -m pytest -n 2 --junitxml=.pytest-results.xml "$@"
