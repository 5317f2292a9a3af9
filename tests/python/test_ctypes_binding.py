#!/usr/bin/env python3
"""The Python ctypes binding (bindings/python/ollm.py) against the real Gemma 3 270M model:
streaming equals the blocking result and the `ollm` tool's greedy output (the C++ path),
tokenize equals `ollm tokenize`, chat rendering equals transformers' goldens for the Gemma 3
template, errors arrive as ollm.Error with the library's message.
Usage: test_ctypes_binding.py LIBOLLM OLLM_TOOL MODEL GEMMA3_TOKENIZER_CONFIG CHAT_GOLDENS
Exit 77 (skipped) when the model is absent."""
import json
import os
import pathlib
import subprocess
import sys

lib_path, tool, model_path, template_config, goldens = sys.argv[1:6]
if not os.path.exists(model_path):
    print(f"SKIP: {model_path} not downloaded")
    sys.exit(77)
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
import ollm  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


lib = ollm.Library(lib_path)
check(lib.version == "0.1.0", f"version {lib.version}")
prompt = "The capital of France is"
with lib.load_model(model_path, threads=2) as model, model.engine(kv_cache_tokens=512) as engine:
    check(model.architecture == "gemma3", f"architecture {model.architecture}")
    streamed = "".join(engine.stream(prompt, max_tokens=16, stop_at_eos=False))
    result = engine.generate(prompt, max_tokens=16, stop_at_eos=False)
    check(streamed == result["text"] and len(result["tokens"]) == 16 and result["finish"] == "length",
          f"stream == generate: {streamed!r}")
    cli = subprocess.run([tool, "run", "-m", model_path, "-p", prompt, "-n", "16", "--ignore-eos", "-t", "2"],
                         capture_output=True, text=True, check=True).stdout
    check(cli == prompt + result["text"] + "\n", f"equals `ollm run`: {cli!r}")
    # Early stop from the consumer cancels the request and leaves the engine usable.
    gen = engine.stream(prompt, max_tokens=200, stop_at_eos=False)
    next(gen)
    gen.close()
    check(engine.generate(prompt, max_tokens=2)["finish"] in ("length", "eos"), "engine usable after a cancel")
    with model.tokenizer() as tok:
        ids = tok.encode(prompt)
        ref_ids = json.loads(subprocess.run([tool, "tokenize", "-m", model_path, "-p", prompt], capture_output=True,
                                            text=True, check=True).stdout)
        check(ids == ref_ids, f"tokenize {ids} == ollm tokenize {ref_ids}")
        check(tok.decode(ids, skip_special=True) == prompt, "decode round trip")
    emb = engine.embeddings(ids, pooling="mean", normalize=True)
    check(len(emb) == model.hidden_size and abs(sum(v * v for v in emb) - 1) < 1e-4, "unit embedding")
    try:
        engine.generate([model.vocab_size + 5], max_tokens=1)
        check(False, "out-of-vocabulary id refused")
    except ollm.Error as e:
        check(e.status == "INVALID_ARGUMENT" and str(model.vocab_size + 5) in str(e), f"refused: {e}")

config = json.loads(pathlib.Path(template_config).read_text())
cases = 0
with lib.parse_chat_template(config["chat_template"], bos_token=config["bos_token"],
                             eos_token=config["eos_token"]) as template:
    for line in open(goldens):
        g = json.loads(line)
        if g["template"] != "gemma3" or g.get("tools") or g.get("extra") or "error" in g:
            continue
        if not all(isinstance(m.get("content"), str) and set(m) <= {"role", "content"} for m in g["messages"]):
            continue
        cases += 1
        got = template.render(g["messages"], add_generation_prompt=g["add_generation_prompt"])
        check(got == g["expected"], f"gemma3 chat golden {g['case']} (generation prompt {g['add_generation_prompt']})")
check(cases >= 4, f"{cases} gemma3 chat goldens rendered")
try:
    lib.load_model("/nonexistent/model.gguf")
    check(False, "missing model refused")
except ollm.Error as e:
    check(e.status == "IO" and "/nonexistent/model.gguf" in str(e), f"missing model: {e}")
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
