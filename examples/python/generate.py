#!/usr/bin/env python3
"""ollm from Python through the C ABI (ctypes; bindings/python/ollm.py), no compiled extension:
stream a completion, tokenize, and render a chat.

    OLLM_LIBRARY=build/src/libollm.so examples/python/generate.py MODEL.gguf "The capital of France is"
        [--chat-template tokenizer_config.json]   # for base models that ship no template
"""
import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
import ollm  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("prompt", nargs="?", default="The capital of France is")
ap.add_argument("-n", "--max-tokens", type=int, default=32)
ap.add_argument("--chat-template", help="a tokenizer_config.json whose chat_template to use")
args = ap.parse_args()

lib = ollm.Library()
print(f"ollm {lib.version}")
with lib.load_model(args.model, threads=2) as model, model.engine(kv_cache_tokens=1024) as engine:
    print(f"model: {model.architecture}, vocab {model.vocab_size}")
    print(args.prompt, end="", flush=True)
    for piece in engine.stream(args.prompt, max_tokens=args.max_tokens):
        print(piece, end="", flush=True)
    print()
    with model.tokenizer() as tok:
        ids = tok.encode(args.prompt)
        print(f"tokens of the prompt: {ids}")
        if args.chat_template:
            config = json.loads(pathlib.Path(args.chat_template).read_text())
            template = lib.parse_chat_template(config["chat_template"], bos_token=config.get("bos_token", ""),
                                               eos_token=config.get("eos_token", ""))
        else:
            template = model.chat_template()
        with template:
            chat = template.render([{"role": "user", "content": "Hello!"}])
            print(f"chat prompt ({len(tok.encode(chat, add_special=False))} tokens):\n{chat}")
