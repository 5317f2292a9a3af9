#!/usr/bin/env python3
"""The Python ctypes binding on hostile input, against the tiny test model (always runs): integers
that ctypes would silently wrap are refused naming the argument, prompts keep their NUL bytes,
strings that a C string would cut are refused, and an exception raised in a callback reaches the
caller instead of being printed and swallowed. Also the checksum policy.
Usage: test_ctypes_hardening.py LIBOLLM TINY_MODEL_GGUF"""
import hashlib
import pathlib
import shutil
import sys
import tempfile
import threading

lib_path, model_path = sys.argv[1:3]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
import ollm  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def raises(kind, needle, fn, what):
    try:
        fn()
    except kind as e:
        check(needle in str(e), f"{what}: {type(e).__name__}: {e}")
        return e
    except Exception as e:  # noqa: BLE001
        check(False, f"{what}: raised {type(e).__name__}: {e} (want {kind.__name__})")
        return None
    check(False, f"{what}: nothing raised")
    return None


class Boom(Exception):
    pass


lib = ollm.Library(lib_path)
with lib.load_model(model_path, threads=2) as model, model.engine(kv_cache_tokens=512, kv_type="f32") as engine, \
        model.tokenizer() as tok:
    raises(OverflowError, "max_tokens = 4294967299", lambda: engine.generate([1, 2], max_tokens=2**32 + 3),
           "max_tokens 2**32+3 (was truncated to 3)")
    raises(OverflowError, "max_tokens = -1", lambda: engine.generate([1, 2], max_tokens=-1), "max_tokens -1")
    raises(TypeError, "max_tokens", lambda: engine.generate([1, 2], max_tokens=2.5), "max_tokens 2.5")
    raises(OverflowError, "ids[1] = 1099511627776", lambda: tok.decode([5, 2**40]), "decode([5, 2**40]) (was '<pad>')")
    raises(OverflowError, "ids[0]", lambda: engine.logits([2**40]), "logits([2**40])")
    raises(OverflowError, "prompt[0]", lambda: engine.generate([-2**31 - 1]), "prompt id below int32")
    raises(OverflowError, "threads = 2147483648", lambda: model.engine(threads=2**31), "engine threads 2**31")
    raises(ollm.Error, "kv_cache_tokens -1", lambda: model.engine(kv_cache_tokens=-1), "engine kv_cache_tokens -1")
    raises(ValueError, "kv_type", lambda: model.engine(kv_type="q4_0"), "engine kv_type q4_0")
    check(tok.decode([5]) != tok.decode([0]), "in-range ids still decode")

    # NUL bytes: part of the prompt (passed with its length), refused where a C string would cut.
    with_nul = engine.generate("a\0b", max_tokens=1)
    check(with_nul["prompt_tokens"] == len(tok.encode("a\0b")) > len(tok.encode("a")),
          f"prompt 'a\\0b' keeps its NUL: {with_nul['prompt_tokens']} tokens, encode gives {len(tok.encode('a' + chr(0) + 'b'))}")
    raises(ValueError, "stop[1] contains a NUL", lambda: engine.generate("hi", max_tokens=1, stop=["x", "a\0b"]),
           "stop string with NUL")
    raises(ValueError, "source contains a NUL", lambda: lib.parse_chat_template("{{ 1 }}\0{{ 2 }}"),
           "template source with NUL")
    with lib.parse_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}") as t:
        raises(ValueError, "messages[0]['content'] contains a NUL",
               lambda: t.render([{"role": "user", "content": "a\0b"}]), "chat message with NUL")
        check(t.render([{"role": "user", "content": "ab"}]) == "ab", "chat message without NUL renders")

    # A callback's exception is the caller's: re-raised after the request is cancelled.
    calls = []

    def explode(piece):
        calls.append(piece)
        raise Boom("from on_text")
    raises(Boom, "from on_text", lambda: engine.generate("hello", max_tokens=8, stop_at_eos=False, on_text=explode),
               "on_text exception re-raised (was swallowed, reporting success)")
    check(len(calls) == 1, f"on_text not called again after raising ({len(calls)} calls)")
    raises(Boom, "from on_text", lambda: engine.generate("hi", max_tokens=2, on_text=explode), "again, same engine")
    after = engine.generate("hello", max_tokens=4, stop_at_eos=False)
    check(after["finish"] == "length" and len(after["tokens"]) == 4, "engine usable after a callback raised")
    check(engine.lib.api.engine_kv_free_tokens(engine.handle) == 512, "no KV blocks leaked")

# Thread pools: two engines on one pool, driven from two Python threads at once, give the tokens
# of an engine on the library's shared pool; the engines outlive the closed pool handle.
with lib.load_model(model_path, threads=2) as model:
    with model.engine(kv_cache_tokens=512, kv_type="f32") as alone:
        expected = alone.generate([1, 5, 9, 300], max_tokens=12, stop_at_eos=False)["tokens"]
    check(len(expected) == 12, "lone engine generated 12 tokens")
    pool = lib.thread_pool(2)
    check(pool.size == 2, f"pool size {pool.size}")
    a = model.engine(kv_cache_tokens=512, kv_type="f32", thread_pool=pool)
    b = model.engine(kv_cache_tokens=512, kv_type="f32", thread_pool=pool)
    pool.close()  # the engines keep the pool alive
    got = {}
    workers = [threading.Thread(target=lambda n, e: got.__setitem__(n, e.generate([1, 5, 9, 300], max_tokens=12,
                                                                                stop_at_eos=False)["tokens"]),
                                args=(name, eng)) for name, eng in (("a", a), ("b", b))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    check(got.get("a") == expected and got.get("b") == expected, f"shared-pool engines' tokens {got} == {expected}")
    a.close()
    b.close()
    raises(ollm.Error, "threads 0 is out of range (1..255)", lambda: lib.thread_pool(0), "thread_pool(0)")
    raises(ollm.Error, "threads 256 is out of range", lambda: lib.thread_pool(256), "thread_pool(256)")
    raises(OverflowError, "threads = 4294967296", lambda: lib.thread_pool(2**32), "thread_pool(2**32)")
    raises(TypeError, "thread_pool must be an ollm.ThreadPool", lambda: model.engine(thread_pool=2),
           "engine(thread_pool=2)")
    raises(ValueError, "thread_pool is closed", lambda: model.engine(thread_pool=pool), "closed pool refused")

# Progress callback exceptions reach load_model's caller.
raises(Boom, "progress", lambda: lib.load_model(model_path, progress=lambda f: (_ for _ in ()).throw(Boom("progress"))),
       "progress exception re-raised")
raises(ValueError, "verify", lambda: lib.load_model(model_path, verify="sometimes"), "verify 'sometimes'")
raises(ValueError, "path contains a NUL", lambda: lib.load_model(model_path + "\0.bak"), "path with NUL")

# Checksums: a manifest beside the model is checked by default; never skips it.
tmp = pathlib.Path(tempfile.mkdtemp())
try:
    copy = tmp / "model.gguf"
    shutil.copyfile(model_path, copy)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    cache = str(tmp / "verified-sha256")
    (tmp / "model.gguf.sha256").write_text("0" * 64 + "  model.gguf\n")
    raises(ollm.Error, f"the file hashes to {digest}", lambda: lib.load_model(str(copy), checksum_cache=cache),
           "mismatching manifest refused by default")
    lib.load_model(str(copy), verify="never", checksum_cache=cache).close()
    check(True, "verify='never' loads despite the manifest")
    (tmp / "model.gguf.sha256").write_text(digest + "  model.gguf\n")
    lib.load_model(str(copy), checksum_cache=cache).close()
    check(digest in pathlib.Path(cache).read_text(), "matching manifest passes and is remembered")
finally:
    shutil.rmtree(tmp)
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
