#!/usr/bin/env bash
# Compares the logits of two ollm builds byte for byte: every tiny family fixture (GGUF and HF),
# under every numerics mode and KV type, on 1 and 2 threads, plus the real Gemma 3 270M when it is
# cached. For refactors that must not change a single bit (the backend seam, issue 14).
#   scripts/check-bit-identical.sh OLD/bin/ollm NEW/bin/ollm
# `ollm logits --json` prints each float in its shortest round-trip form, so equal text is equal
# bits. Prints one line per case and "N identical, N differ"; exits 1 when any case differs.
set -uo pipefail
old=$1 new=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
same=0 differ=0
compare() {  # name, then ollm logits arguments
  local name=$1; shift
  "$old" logits "$@" --json > "$work/old.json" 2> "$work/old.err"; local rc_old=$?
  "$new" logits "$@" --json > "$work/new.json" 2> "$work/new.err"; local rc_new=$?
  if [ "$rc_old" -ne 0 ] && [ "$rc_new" -ne 0 ] && cmp -s "$work/old.err" "$work/new.err"; then
    echo "same error  $name"; same=$((same + 1))
  elif [ "$rc_old" -eq 0 ] && [ "$rc_new" -eq 0 ] && cmp -s "$work/old.json" "$work/new.json"; then
    echo "identical   $name"; same=$((same + 1))
  else
    echo "DIFFER      $name (exit $rc_old vs $rc_new)"; head -c 300 "$work/new.err"; differ=$((differ + 1))
  fi
}
ids=1,7,3,12,5,9,2,11,4,8,6,10
for dir in "$root"/tests/data/models/*/; do
  fam=$(basename "$dir")
  for model in "$dir/model.gguf" "$dir/hf"; do
    [ -e "$model" ] || continue
    for numerics in standard llamacpp exact; do
      for kv in f16 f32 q8_0; do
        for t in 1 2; do
          compare "$fam/$(basename "$model") $numerics kv=$kv t=$t" -m "$model" --ids "$ids" --numerics "$numerics" \
            --kv-type "$kv" -t "$t" --no-verify
        done
      done
    done
  done
done
gemma=${OLLM_MODELS:-$HOME/.cache/ollm/models}/gemma-3-270m-q4_k_m.gguf
if [ -f "$gemma" ]; then
  for numerics in standard llamacpp exact; do
    compare "gemma3-270m $numerics" -m "$gemma" -p "The capital of France is Paris, and the capital of Italy is" \
      --numerics "$numerics" -t 2
    # Decode steps (one row per step) through generation: greedy, so equal text means equal argmaxes
    # at every step, and sampled with a seed, which reads the whole distribution.
    for sampling in "--temp 0" "--temp 0.8 --seed 7"; do
      # shellcheck disable=SC2086
      if cmp -s <("$old" run -m "$gemma" -p "Once upon a time" -n 48 --numerics "$numerics" $sampling 2>/dev/null) \
                <("$new" run -m "$gemma" -p "Once upon a time" -n 48 --numerics "$numerics" $sampling 2>/dev/null); then
        echo "identical   gemma3-270m run $numerics $sampling"; same=$((same + 1))
      else
        echo "DIFFER      gemma3-270m run $numerics $sampling"; differ=$((differ + 1))
      fi
    done
  done
fi
echo "$same identical, $differ differ"
[ "$differ" -eq 0 ]
