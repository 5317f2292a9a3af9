#!/usr/bin/env bash
# if_model_exists.sh MODEL COMMAND...: runs COMMAND, or exits 77 (CTest: skipped) when MODEL has not
# been downloaded (scripts/get-model.sh fetches it; scripts/test.sh always does).
model=$1
shift
if [ ! -f "$model" ]; then
  echo "SKIP: $model not downloaded"
  exit 77
fi
exec "$@"
