#!/usr/bin/env bash
# Conan 2 check: `conan create` of conanfile.py (+ test_package/) against the system's Debian
# packages, offline (no remote is consulted: the recipe has no Conan requirements).
# NOT part of scripts/test.sh or CI's test command: it needs Conan from PyPI (a virtual environment
# in $OLLM_CONAN_VENV, default /tmp/conan_venv, created on first use) and builds the whole library
# once per run (minutes).
#   scripts/check-conan.sh                         shared libollm (the recipe's default)
#   scripts/check-conan.sh -o "&:shared=False"     static; any further `conan create` arguments pass through
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${OLLM_CONAN_VENV:-/tmp/conan_venv}

if [ ! -x "$venv/bin/conan" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet conan
fi
conan="$venv/bin/conan"
"$conan" --version
# A default profile from the local compiler when there is none yet.
"$conan" profile path default > /dev/null 2>&1 || "$conan" profile detect
# ollm's public headers need C++20; `conan profile detect` picks gnu17 for GCC 12.
cd "$root"
"$conan" create . --build=missing --no-remote -s compiler.cppstd=20 \
  -c tools.build:jobs="${OLLM_JOBS:-2}" "$@"
