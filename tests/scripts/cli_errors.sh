#!/usr/bin/env bash
# `ollm` exit codes and messages on bad input: 2 for usage errors, 1 for failed operations,
# and the message names the file and the problem.
set -u
ollm=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect() {  # expect EXIT_CODE STDERR_SUBSTRING -- COMMAND...
  local code=$1 needle=$2; shift 3
  "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$?
  if [ "$got" -ne "$code" ] || ! grep -qF -- "$needle" "$tmp/err"; then
    echo "FAIL: $* -> exit $got (want $code), stderr: $(cat "$tmp/err") (want '$needle')"
    failures=$((failures + 1))
  else
    echo "ok: $* -> $got"
  fi
}

printf 'GGUF\x01\x00\x00\x00' > "$tmp/v1.gguf"
printf 'not a model at all' > "$tmp/junk.gguf"
expect 2 "model is required" -- "$ollm" inspect
expect 2 "--bogus" -- "$ollm" inspect --bogus x
expect 1 "does not exist" -- "$ollm" inspect "$tmp/missing.gguf"
expect 1 "bad magic" -- "$ollm" inspect "$tmp/junk.gguf"
expect 1 "GGUF version 1 is not supported" -- "$ollm" inspect "$tmp/v1.gguf"
"$ollm" --version > "$tmp/version" || { echo "FAIL: --version"; failures=$((failures + 1)); }
grep -q "^backends: cpu" "$tmp/version" || { echo "FAIL: --version lacks backends"; failures=$((failures + 1)); }

# Numeric options: what was expected and what was given, never a conversion error or a bound of
# hundreds of digits.
m="$data/models/llama/model.gguf"
expect 2 "--max-tokens: expected an integer >= 0, got '-1'" -- "$ollm" run -m "$m" -p hi -n -1
expect 2 "--max-tokens: expected an integer >= 0, got 'abc'" -- "$ollm" run -m "$m" -p hi -n abc
expect 2 "--max-tokens: expected an integer >= 0, got '99999999999'" -- "$ollm" run -m "$m" -p hi -n 99999999999
expect 2 "--threads: expected an integer in 0..1024, got '-1'" -- "$ollm" run -m "$m" -p hi -t -1
expect 2 "--ctx: expected an integer in 1..2147483647, got '0'" -- "$ollm" run -m "$m" -p hi -c 0
expect 2 "--temp: expected a number >= 0, got 'nan'" -- "$ollm" run -m "$m" -p hi --temp nan
expect 2 "--top-p: expected a number in (0, 1], got '2'" -- "$ollm" run -m "$m" -p hi --top-p 2
expect 2 "--top-k: expected an integer >= 0, got '-3'" -- "$ollm" run -m "$m" -p hi --top-k -3
expect 2 "--min-p: expected a number in [0, 1], got '1.5'" -- "$ollm" run -m "$m" -p hi --min-p 1.5
expect 2 "--typical-p: expected a number in (0, 1], got '0'" -- "$ollm" run -m "$m" -p hi --typical-p 0
expect 2 "--repeat-penalty: expected a number > 0, got '0'" -- "$ollm" run -m "$m" -p hi --repeat-penalty 0
expect 2 "--frequency-penalty: expected a finite number, got 'inf'" -- "$ollm" run -m "$m" -p hi --frequency-penalty inf
expect 2 "--presence-penalty: expected a finite number, got 'x'" -- "$ollm" run -m "$m" -p hi --presence-penalty x
expect 2 "--penalty-window: expected an integer >= -1, got '-2'" -- "$ollm" run -m "$m" -p hi --penalty-window -2
expect 2 "--seed: expected an integer >= 0, got '-1'" -- "$ollm" run -m "$m" -p hi --seed -1
expect 2 "--max-tokens: expected an integer >= 1, got '0'" -- "$ollm" chat -m "$m" -n 0
expect 2 "--top-k: expected an integer >= 0, got '1.5'" -- "$ollm" chat -m "$m" --top-k 1.5
expect 2 "--top: expected an integer >= 1, got '0'" -- "$ollm" logits -m "$m" --ids 1 --top 0
expect 2 "--threads: expected an integer in 0..1024, got 'all'" -- "$ollm" logits -m "$m" --ids 1 -t all
expect 2 "--n-prompt: expected an integer >= 0, got '-2'" -- "$ollm" bench -m "$m" -p 1,-2
expect 2 "--n-gen: expected an integer >= 0, got 'x'" -- "$ollm" bench -m "$m" -n x
expect 2 "--threads: expected an integer in 0..1024, got '5000'" -- "$ollm" bench -m "$m" -t 1,5000
expect 2 "--repetitions: expected an integer >= 1, got '0'" -- "$ollm" bench -m "$m" -r 0
expect 2 "--warmup: expected an integer >= 0, got '-1'" -- "$ollm" bench -m "$m" --warmup -1
expect 2 "--load-repetitions: expected an integer >= 1, got '0'" -- "$ollm" bench -m "$m" --load-repetitions 0
expect 2 "--batch: expected an integer in 1..2147483647, got '0'" -- "$ollm" bench -m "$m" -b 0
expect 2 "--seed: expected an integer >= 0, got '1e3'" -- "$ollm" bench -m "$m" --seed 1e3
expect 2 "--verify excludes --no-verify" -- "$ollm" run -m "$m" -p hi --verify --no-verify

# --stats: the statistics start on their own line, also when stdout and stderr share one file.
"$ollm" run -m "$m" -p hi -n 4 --stats > "$tmp/both" 2>&1
if ! grep -q '^load .* tok/s' "$tmp/both"; then
  echo "FAIL: run --stats glued its statistics to the text: $(cat "$tmp/both")"; failures=$((failures + 1))
else
  echo "ok: run --stats on its own line"
fi

# A model folder without a tokenizer: token ids work, text names the missing file, and nothing
# of the refused prompt reaches stdout.
mkdir "$tmp/notok"
cp "$data/models/llama/hf/config.json" "$data/models/llama/hf/model.safetensors" "$tmp/notok/"
if "$ollm" logits -m "$tmp/notok" --ids 1,2,3 --top 2 > "$tmp/out" 2> "$tmp/err" && grep -q "^position 2 (id 3)" "$tmp/out"; then
  echo "ok: logits --ids without a tokenizer"
else
  echo "FAIL: logits --ids without a tokenizer: $(cat "$tmp/err")"; failures=$((failures + 1))
fi
expect 1 "$tmp/notok/tokenizer.json is missing" -- "$ollm" logits -m "$tmp/notok" -p hi
expect 1 "$tmp/notok/tokenizer.json is missing" -- "$ollm" run -m "$tmp/notok" -p hi
[ -s "$tmp/out" ] && { echo "FAIL: run printed '$(cat "$tmp/out")' for a refused prompt"; failures=$((failures + 1)); }

# A prompt text that tokenizes to nothing is not "empty": a tokenizer splitting on whitespace
# gives no token for "   ".
mkdir "$tmp/ws"
cp "$data/models/llama/hf/config.json" "$data/models/llama/hf/model.safetensors" "$tmp/ws/"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); t["pre_tokenizer"]={"type":"Whitespace"}; json.dump(t,open(sys.argv[2],"w"))' \
  "$data/models/llama/hf/tokenizer.json" "$tmp/ws/tokenizer.json"
expect 2 "the prompt text (3 bytes) tokenizes to zero tokens (add_special_tokens is off" -- "$ollm" run -m "$tmp/ws" -p "   " --no-add-special
expect 2 "the prompt is empty" -- "$ollm" run -m "$tmp/ws" -p ""

# Checksum manifests are checked by default, remembered in the cache, skipped with --no-verify.
mkdir -p "$tmp/sum" "$tmp/cache"
cp "$m" "$tmp/sum/model.gguf"
good=$(sha256sum "$tmp/sum/model.gguf" | cut -d' ' -f1)
bad=0000000000000000000000000000000000000000000000000000000000000000
export XDG_CACHE_HOME="$tmp/cache"
echo "$bad  model.gguf" > "$tmp/sum/model.gguf.sha256"
expect 1 "checksum mismatch for $tmp/sum/model.gguf: manifest $tmp/sum/model.gguf.sha256 says $bad, the file hashes to $good" -- "$ollm" run -m "$tmp/sum/model.gguf" -p hi -n 1
if "$ollm" run -m "$tmp/sum/model.gguf" -p hi -n 1 --no-verify > /dev/null 2> "$tmp/err"; then
  echo "ok: --no-verify skips the manifest"
else
  echo "FAIL: --no-verify: $(cat "$tmp/err")"; failures=$((failures + 1))
fi
echo "$good  model.gguf" > "$tmp/sum/model.gguf.sha256"
if "$ollm" run -m "$tmp/sum/model.gguf" -p hi -n 1 > /dev/null 2> "$tmp/err" &&
   grep -q " $good .* $tmp/sum/model.gguf\$" "$tmp/cache/ollm/verified-sha256"; then
  echo "ok: a matching manifest passes and the file is remembered"
else
  echo "FAIL: matching manifest / cache: $(cat "$tmp/err")"; failures=$((failures + 1))
fi
# Remembered as hashing to $good: a manifest that now says otherwise is still a mismatch.
echo "$bad  model.gguf" > "$tmp/sum/model.gguf.sha256"
expect 1 "the file hashes to $good" -- "$ollm" run -m "$tmp/sum/model.gguf" -p hi -n 1
unset XDG_CACHE_HOME

# Files whose values cannot work: refused naming file and key, exit 1 (the file is at fault, not
# the command line), and inspect refuses them too (it prints what it read, then the problems).
# gguf_set FILE OUT KEY TYPE VALUE: a copy of FILE with the scalar KEY (struct TYPE) set to VALUE.
gguf_set() {
  python3 - "$@" <<'PY'
import struct, sys
src, out, key, fmt, value = sys.argv[1:]
b = bytearray(open(src, "rb").read())
k = key.encode()
i = b.index(struct.pack("<Q", len(k)) + k) + 8 + len(k) + 4  # past the key and its type
b[i:i + struct.calcsize(fmt)] = struct.pack(fmt, float(value))
open(out, "wb").write(b)
PY
}
gguf_set "$m" "$tmp/nan_rope.gguf" llama.rope.freq_base "<f" nan
expect 1 "$tmp/nan_rope.gguf: 'llama.rope.freq_base' is nan, expected a finite number > 0" -- "$ollm" run -m "$tmp/nan_rope.gguf" -p hi -n 1
expect 1 "$tmp/nan_rope.gguf: 'llama.rope.freq_base' is nan, expected a finite number > 0" -- "$ollm" inspect "$tmp/nan_rope.gguf"
gguf_set "$m" "$tmp/zero_rope.gguf" llama.rope.freq_base "<f" 0
expect 1 "'llama.rope.freq_base' is 0, expected a finite number > 0" -- "$ollm" logits -m "$tmp/zero_rope.gguf" --ids 1
gguf_set "$m" "$tmp/nan_eps.gguf" llama.attention.layer_norm_rms_epsilon "<f" nan
expect 1 "$tmp/nan_eps.gguf: 'llama.attention.layer_norm_rms_epsilon' is nan, expected a number in (0, 1)" -- "$ollm" run -m "$tmp/nan_eps.gguf" -p hi -n 1
expect 1 "'llama.attention.layer_norm_rms_epsilon' is nan" -- "$ollm" inspect --json "$tmp/nan_eps.gguf"
grep -q '"problems": *\[{' "$tmp/out" || { echo "FAIL: inspect --json lists no problems: $(cat "$tmp/out")"; failures=$((failures + 1)); }
gguf_set "$m" "$tmp/neg_eps.gguf" llama.attention.layer_norm_rms_epsilon "<f" -1
expect 1 "'llama.attention.layer_norm_rms_epsilon' is -1, expected a number in (0, 1)" -- "$ollm" run -m "$tmp/neg_eps.gguf" -p hi -n 1
mkdir "$tmp/hfeps"
cp "$data/models/llama/hf/"* "$tmp/hfeps/"
sed -i 's/"rms_norm_eps": 1e-05/"rms_norm_eps": -1/' "$tmp/hfeps/config.json"
expect 1 "$tmp/hfeps/config.json: 'rms_norm_eps' is -1, expected a number in (0, 1)" -- "$ollm" run -m "$tmp/hfeps" -p hi -n 1
expect 1 "$tmp/hfeps/config.json: 'rms_norm_eps' is -1, expected a number in (0, 1)" -- "$ollm" inspect "$tmp/hfeps"
# Head counts that do not divide the hidden size (and no head_dim) are named as such.
mkdir "$tmp/hfheads"
cp "$data/models/llama/hf/"* "$tmp/hfheads/"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.pop("head_dim"); c["num_attention_heads"]=3; c["num_key_value_heads"]=3; json.dump(c,open(sys.argv[1],"w"))' "$tmp/hfheads/config.json"
expect 1 "hidden size 256 is not divisible by 3 heads ('hidden_size', 'num_attention_heads'" -- "$ollm" inspect "$tmp/hfheads"
# tie_word_embeddings false and no lm_head.weight: refused, not silently tied.
mkdir "$tmp/hfnohead"
cp "$data/models/llama/hf/"* "$tmp/hfnohead/"
python3 -c 'import sys; p=sys.argv[1]; b=open(p,"rb").read(); open(p,"wb").write(b.replace(b"\"lm_head.weight\"", b"\"lm_head.unused\"", 1))' "$tmp/hfnohead/model.safetensors"
expect 1 "'tie_word_embeddings' is false but no weights file holds 'lm_head.weight'" -- "$ollm" inspect "$tmp/hfnohead"
grep -q "tied embeddings yes" "$tmp/out" && { echo "FAIL: inspect still says tied: $(grep -i tied "$tmp/out")"; failures=$((failures + 1)); }
expect 1 "'tie_word_embeddings' is false but no weights file holds 'lm_head.weight'" -- "$ollm" run -m "$tmp/hfnohead" -p hi -n 1
# An architecture the file has no hyper-parameters for is unsupported, and a NUL in it is escaped.
python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(b.replace(b"\x05\0\0\0\0\0\0\0llama", b"\x05\0\0\0\0\0\0\0ll\0ma", 1))' "$m" "$tmp/nul_arch.gguf"
expect 1 "unsupported architecture 'll\x00ma' (general.architecture): the file has no 'll\x00ma.*' hyper-parameters, and ollm reads those of llama," -- "$ollm" inspect "$tmp/nul_arch.gguf"

# Paths of the wrong type: named as what they are, and a FIFO never blocks (timeout: a hang fails).
mkfifo "$tmp/fifo"
expect 1 "'$tmp/fifo' is a FIFO, not a regular file" -- timeout 20 "$ollm" inspect "$tmp/fifo"
expect 1 "'$tmp/fifo' is a FIFO, not a regular file" -- timeout 20 "$ollm" run -m "$tmp/fifo" -p hi
expect 1 "'$tmp/fifo' is a FIFO, not a regular file" -- timeout 20 "$ollm" tokenize --tokenizer "$tmp/fifo" -p hi
expect 1 "'$tmp/fifo' is a FIFO, not a regular file" -- timeout 20 "$ollm" chat-template --tokenizer-config "$tmp/fifo" -f "$tmp/fifo"
mkdir "$tmp/hffifo"
cp "$data/models/llama/hf/"* "$tmp/hffifo/"
rm "$tmp/hffifo/tokenizer.json" && mkfifo "$tmp/hffifo/tokenizer.json"
expect 1 "'$tmp/hffifo/tokenizer.json' is a FIFO, not a regular file" -- timeout 20 "$ollm" run -m "$tmp/hffifo" -p hi
rm "$tmp/hffifo/config.json" && mkfifo "$tmp/hffifo/config.json"
expect 1 "'$tmp/hffifo/config.json' is a FIFO, not a regular file" -- timeout 20 "$ollm" inspect "$tmp/hffifo"
mkdir "$tmp/sumfifo"
cp "$m" "$tmp/sumfifo/model.gguf"
mkfifo "$tmp/sumfifo/model.gguf.sha256"
expect 1 "'$tmp/sumfifo/model.gguf.sha256' is a FIFO, not a regular file" -- timeout 20 "$ollm" run -m "$tmp/sumfifo/model.gguf" -p hi -n 1
ln -s "$tmp/loop" "$tmp/loop"
expect 1 "cannot open '$tmp/loop': Too many levels of symbolic links" -- "$ollm" inspect "$tmp/loop"
expect 1 "cannot open '$tmp/loop': Too many levels of symbolic links" -- "$ollm" tokenize --tokenizer "$tmp/loop" -p hi
mkdir -p "$tmp/cfgdir/config.json"
expect 1 "'$tmp/cfgdir/config.json' is a directory, not a regular file" -- "$ollm" inspect "$tmp/cfgdir"
expect 2 "--tokenizer '$tmp/cfgdir' is a directory: pass the tokenizer.json in it" -- "$ollm" tokenize --tokenizer "$tmp/cfgdir" -p hi

[ "$failures" -eq 0 ]
