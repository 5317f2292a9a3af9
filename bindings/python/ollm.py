"""ollm through its C ABI with ctypes (standard library only, no compiled extension).

    import ollm
    lib = ollm.Library("/path/to/libollm.so")          # or $OLLM_LIBRARY, or libollm.so on the path
    with lib.load_model("gemma-3-270m.gguf") as model, model.engine() as engine:
        for piece in engine.stream("The capital of France is", max_tokens=32):
            print(piece, end="", flush=True)

Errors raise ollm.Error(status, message) with the library's message. Handles are freed by
close() / the with-statement (or when garbage-collected). Uses only ollm_get_api: the function
table is the ABI contract (bindings/c/ollm.h), so this file keeps working with newer libraries.
"""
from __future__ import annotations

import ctypes
import os
import queue
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_float, c_int, c_int32, c_int64, c_size_t,
                    c_uint32, c_uint64, c_void_p)

API_VERSION = 2
STATUS = ["OK", "INVALID_ARGUMENT", "INVALID_MODEL_FILE", "UNSUPPORTED", "OUT_OF_MEMORY", "IO", "CANCELLED",
          "NOT_FOUND", "INTERNAL", "DEVICE_FAILURE"]
FINISH = ["none", "length", "eos", "stop", "cancelled", "context_full", "error"]
CHECKSUMS = {"auto": 0, "always": 1, "never": 2}
KV_TYPES = {"f16": 0, "bf16": 1, "f32": 2, "q8_0": 3}
NUMERICS = {"standard": 0, "llamacpp": 1, "exact": 2}
POOLING = {"none": 0, "mean": 1, "last": 2}


_RANGES = {"int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1),
           "uint64": (0, 2**64 - 1), "size": (0, 2**64 - 1)}


def _int(value, name: str, kind: str, low: int | None = None) -> int:
    """value as an integer that fits the C type `kind` (ctypes would silently wrap it), at least `low`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    lo, hi = _RANGES[kind]
    if low is not None:
        lo = max(lo, low)
    if not lo <= value <= hi:
        raise OverflowError(f"{name} = {value} is out of range ({lo}..{hi})")
    return value


def _ids(ids, name: str = "ids"):
    """A ctypes int32 array of token ids, each checked (2**40 must not become token 0)."""
    ids = list(ids)
    for i, v in enumerate(ids):
        _int(v, f"{name}[{i}]", "int32")
    return (c_int32 * len(ids))(*ids)


def _cstr(text: str, name: str) -> bytes:
    """UTF-8 bytes for a NUL-terminated C string; an embedded NUL would silently cut it."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    data = text.encode()
    at = data.find(b"\0")
    if at >= 0:
        raise ValueError(f"{name} contains a NUL character at byte {at}, which a C string cannot carry")
    return data


class Error(RuntimeError):
    def __init__(self, status: int, message: str):
        name = STATUS[status] if 0 <= status < len(STATUS) else str(status)
        super().__init__(f"{name}: {message}")
        self.status = name


PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_float)
TOKEN_FN = CFUNCTYPE(c_int, c_void_p, ctypes.POINTER(ctypes.c_char), c_size_t)
LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p)


class ModelOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("device", c_char_p), ("threads", c_int32), ("use_mmap", c_int32),
                ("progress", PROGRESS_FN), ("progress_user_data", c_void_p), ("verify_checksums", c_int32),
                ("checksum_policy", c_int32), ("checksum_cache", c_char_p)]


class EngineOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("threads", c_int32), ("kv_cache_tokens", c_int64),
                ("kv_cache_bytes", c_uint64), ("kv_type", c_int), ("max_sequences", c_int32),
                ("max_batch_tokens", c_int64), ("numerics", c_int32), ("thread_pool", c_void_p)]


class GenerateOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("prompt", c_char_p), ("prompt_ids", POINTER(c_int32)),
                ("n_prompt_ids", c_size_t), ("add_special_tokens", c_int32), ("max_tokens", c_int32),
                ("sampler", c_void_p), ("stop", POINTER(c_char_p)), ("n_stop", c_size_t),
                ("stop_at_eos", c_int32), ("session", c_uint64), ("on_token", TOKEN_FN), ("user_data", c_void_p),
                ("prompt_len", c_size_t)]


class ChatMessage(Structure):
    _fields_ = [("struct_size", c_size_t), ("role", c_char_p), ("content", c_char_p)]


S = c_int  # ollm_status
P = c_void_p
# The function table, in ollm.h's order (append-only: new members go at the end).
_API_FIELDS = [
    ("version_string", CFUNCTYPE(c_char_p)), ("build_info", CFUNCTYPE(c_char_p)),
    ("last_error", CFUNCTYPE(c_char_p)), ("status_name", CFUNCTYPE(c_char_p, c_int)),
    ("free", CFUNCTYPE(None, P)), ("set_log_callback", CFUNCTYPE(S, LOG_FN, P, c_int)),
    ("model_options_init", CFUNCTYPE(None, POINTER(ModelOptions))),
    ("model_load", CFUNCTYPE(S, c_char_p, POINTER(ModelOptions), POINTER(P))),
    ("model_destroy", CFUNCTYPE(None, P)), ("model_architecture", CFUNCTYPE(c_char_p, P)),
    ("model_name", CFUNCTYPE(c_char_p, P)), ("model_chat_template", CFUNCTYPE(c_char_p, P)),
    ("model_vocab_size", CFUNCTYPE(c_int64, P)), ("model_context_length", CFUNCTYPE(c_int64, P)),
    ("model_hidden_size", CFUNCTYPE(c_int64, P)), ("model_layer_count", CFUNCTYPE(c_int64, P)),
    ("model_weight_bytes", CFUNCTYPE(c_uint64, P)),
    ("tokenizer_from_model", CFUNCTYPE(S, P, POINTER(P))),
    ("tokenizer_load", CFUNCTYPE(S, c_char_p, c_char_p, POINTER(P))), ("tokenizer_destroy", CFUNCTYPE(None, P)),
    ("tokenize", CFUNCTYPE(S, P, c_char_p, c_size_t, c_int, POINTER(POINTER(c_int32)), POINTER(c_size_t))),
    ("detokenize", CFUNCTYPE(S, P, POINTER(c_int32), c_size_t, c_int, POINTER(c_void_p), POINTER(c_size_t))),
    ("tokenizer_vocab_size", CFUNCTYPE(c_int64, P)), ("tokenizer_bos_id", CFUNCTYPE(c_int32, P)),
    ("tokenizer_eos_id", CFUNCTYPE(c_int32, P)), ("chat_message_init", CFUNCTYPE(None, POINTER(ChatMessage))),
    ("chat_template_from_model", CFUNCTYPE(S, P, POINTER(P))), ("chat_template_parse", CFUNCTYPE(S, c_char_p, POINTER(P))),
    ("chat_template_destroy", CFUNCTYPE(None, P)),
    ("chat_template_set_special_token", CFUNCTYPE(S, P, c_char_p, c_char_p)),
    ("chat_template_render", CFUNCTYPE(S, P, POINTER(ChatMessage), c_size_t, c_int, POINTER(c_void_p))),
    ("chat_template_render_json", CFUNCTYPE(S, P, c_char_p, c_char_p, c_char_p, c_int, POINTER(c_void_p))),
    ("sampler_create", CFUNCTYPE(S, POINTER(P))), ("sampler_destroy", CFUNCTYPE(None, P)),
    ("sampler_set_temperature", CFUNCTYPE(S, P, c_float)), ("sampler_set_top_k", CFUNCTYPE(S, P, c_int32)),
    ("sampler_set_top_p", CFUNCTYPE(S, P, c_float)), ("sampler_set_min_p", CFUNCTYPE(S, P, c_float)),
    ("sampler_set_typical_p", CFUNCTYPE(S, P, c_float)),
    ("sampler_set_penalties", CFUNCTYPE(S, P, c_float, c_float, c_float, c_int32)),
    ("sampler_set_seed", CFUNCTYPE(S, P, c_uint64)), ("sampler_add_logit_bias", CFUNCTYPE(S, P, c_int32, c_float)),
    ("sampler_clear_logit_bias", CFUNCTYPE(S, P)),
    ("engine_options_init", CFUNCTYPE(None, POINTER(EngineOptions))),
    ("engine_create", CFUNCTYPE(S, P, POINTER(EngineOptions), POINTER(P))), ("engine_destroy", CFUNCTYPE(None, P)),
    ("generate_options_init", CFUNCTYPE(None, POINTER(GenerateOptions))),
    ("engine_submit", CFUNCTYPE(S, P, POINTER(GenerateOptions), POINTER(c_uint64))),
    ("engine_step", CFUNCTYPE(S, P, POINTER(c_int))), ("engine_run", CFUNCTYPE(S, P)),
    ("engine_take_result", CFUNCTYPE(S, P, c_uint64, POINTER(P))),
    ("engine_generate", CFUNCTYPE(S, P, POINTER(GenerateOptions), POINTER(P))),
    ("engine_cancel", CFUNCTYPE(S, P, c_uint64)), ("engine_cancel_all", CFUNCTYPE(S, P)),
    ("engine_open_session", CFUNCTYPE(S, P, POINTER(c_uint64))), ("engine_close_session", CFUNCTYPE(S, P, c_uint64)),
    ("engine_reset_session", CFUNCTYPE(S, P, c_uint64)),
    ("engine_logits", CFUNCTYPE(S, P, POINTER(c_int32), c_size_t, POINTER(POINTER(c_float)), POINTER(c_size_t))),
    ("engine_embeddings", CFUNCTYPE(S, P, POINTER(c_int32), c_size_t, c_int, c_int, POINTER(POINTER(c_float)),
                                    POINTER(c_size_t))),
    ("engine_kv_free_tokens", CFUNCTYPE(c_int64, P)), ("result_destroy", CFUNCTYPE(None, P)),
    ("result_text", CFUNCTYPE(c_void_p, P, POINTER(c_size_t))),
    ("result_tokens", CFUNCTYPE(POINTER(c_int32), P, POINTER(c_size_t))),
    ("result_finish_reason", CFUNCTYPE(c_int, P)), ("result_prompt_tokens", CFUNCTYPE(c_int64, P)),
    ("result_reused_tokens", CFUNCTYPE(c_int64, P)), ("result_error", CFUNCTYPE(c_char_p, P)),
    ("model_info_open", CFUNCTYPE(S, c_char_p, POINTER(P))), ("model_info_destroy", CFUNCTYPE(None, P)),
    ("model_info_architecture", CFUNCTYPE(c_char_p, P)), ("model_info_tensor_count", CFUNCTYPE(c_size_t, P)),
    # API version 2
    ("thread_pool_create", CFUNCTYPE(S, c_int32, POINTER(P))), ("thread_pool_destroy", CFUNCTYPE(None, P)),
    ("thread_pool_size", CFUNCTYPE(c_int32, P)),
]


class Api(Structure):
    _fields_ = [("version", c_uint32), ("struct_size", c_uint32)] + _API_FIELDS


class Library:
    """libollm, loaded with ctypes; `path` defaults to $OLLM_LIBRARY, then libollm.so.0."""

    def __init__(self, path: str | None = None):
        self._dll = ctypes.CDLL(path or os.environ.get("OLLM_LIBRARY") or "libollm.so.0")
        get_api = self._dll.ollm_get_api
        get_api.restype = POINTER(Api)
        get_api.argtypes = [c_uint32]
        table = get_api(API_VERSION)
        if not table:
            raise Error(3, f"the library does not provide ollm API version {API_VERSION}")
        self.api = table.contents
        # A table shorter than this file's would mean a library older than API_VERSION claims.
        if self.api.struct_size < ctypes.sizeof(Api):
            raise Error(3, f"the library's function table has {self.api.struct_size} bytes, "
                           f"this binding expects {ctypes.sizeof(Api)}")
        self.version = self.api.version_string().decode()

    def check(self, status: int) -> None:
        if status != 0:
            raise Error(status, self.api.last_error().decode("utf-8", "replace"))

    def take_string(self, ptr: c_void_p, length: int | None = None) -> str:
        try:
            raw = ctypes.string_at(ptr, length) if length is not None else ctypes.string_at(ptr)
            return raw.decode("utf-8", "replace")
        finally:
            self.api.free(ptr)

    def build_info(self) -> str:
        return self.api.build_info().decode()

    def load_model(self, path: str, threads: int = 0, progress=None, verify: str = "auto",
                   checksum_cache: str | None = None) -> "Model":
        """verify: "auto" (check a manifest beside the model, each file hashed once and remembered),
        "always" (hash every listed file now) or "never". An exception raised by progress(fraction)
        cancels the load and is re-raised here."""
        opts = ModelOptions()
        self.api.model_options_init(ctypes.byref(opts))
        opts.threads = _int(threads, "threads", "int32", 0)
        if verify not in CHECKSUMS:
            raise ValueError(f"verify = {verify!r} is not one of {sorted(CHECKSUMS)}")
        opts.checksum_policy = CHECKSUMS[verify]
        cache = _cstr(checksum_cache, "checksum_cache") if checksum_cache is not None else None
        if cache is not None:
            opts.checksum_cache = cache
        raised = []

        def forward(_user, fraction):
            try:
                return 1 if progress(fraction) is not False else 0
            except BaseException as e:  # noqa: BLE001 - re-raised below, never lost in ctypes
                raised.append(e)
                return 0
        callback = PROGRESS_FN(forward) if progress else None
        if callback:
            opts.progress = callback
        handle = c_void_p()
        status = self.api.model_load(_cstr(path, "path"), ctypes.byref(opts), ctypes.byref(handle))
        if raised:
            raise raised[0]
        self.check(status)
        return Model(self, handle)

    def thread_pool(self, threads: int) -> "ThreadPool":
        """A pool of `threads` compute threads (1..255) to share between engines
        (model.engine(thread_pool=...)): engines on one pool take turns instead of
        oversubscribing the cores. Engines keep it alive after it is closed."""
        handle = c_void_p()
        self.check(self.api.thread_pool_create(_int(threads, "threads", "int32"), ctypes.byref(handle)))
        return ThreadPool(self, handle)

    def parse_chat_template(self, source: str, **special_tokens: str) -> "ChatTemplate":
        handle = c_void_p()
        self.check(self.api.chat_template_parse(_cstr(source, "source"), ctypes.byref(handle)))
        template = ChatTemplate(self, handle)
        for name, value in special_tokens.items():
            self.check(self.api.chat_template_set_special_token(handle, _cstr(name, "special token name"),
                                                                _cstr(value, name)))
        return template


class _Handle:
    _destroy = ""

    def __init__(self, lib: Library, handle: c_void_p):
        self.lib, self.handle = lib, handle

    def close(self) -> None:
        if self.handle:
            getattr(self.lib.api, self._destroy)(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class ThreadPool(_Handle):
    """Compute threads shared by engines; made with Library.thread_pool(threads)."""
    _destroy = "thread_pool_destroy"

    @property
    def size(self) -> int:
        return self.lib.api.thread_pool_size(self.handle)


class Model(_Handle):
    _destroy = "model_destroy"

    @property
    def architecture(self) -> str:
        return self.lib.api.model_architecture(self.handle).decode()

    @property
    def vocab_size(self) -> int:
        return self.lib.api.model_vocab_size(self.handle)

    @property
    def hidden_size(self) -> int:
        return self.lib.api.model_hidden_size(self.handle)

    def tokenizer(self) -> "Tokenizer":
        handle = c_void_p()
        self.lib.check(self.lib.api.tokenizer_from_model(self.handle, ctypes.byref(handle)))
        return Tokenizer(self.lib, handle)

    def chat_template(self) -> "ChatTemplate":
        handle = c_void_p()
        self.lib.check(self.lib.api.chat_template_from_model(self.handle, ctypes.byref(handle)))
        return ChatTemplate(self.lib, handle)

    def engine(self, threads: int = 0, kv_cache_tokens: int = 4096, kv_type: str = "f16",
               numerics: str = "standard", kv_cache_bytes: int = 0, max_sequences: int = 8,
               max_batch_tokens: int = 512, thread_pool: "ThreadPool | None" = None) -> "Engine":
        """thread_pool: a Library.thread_pool() to share with other engines (threads then caps how
        many of its threads this engine uses); None: the library's shared pool."""
        opts = EngineOptions()
        self.lib.api.engine_options_init(ctypes.byref(opts))
        if kv_type not in KV_TYPES:
            raise ValueError(f"kv_type = {kv_type!r} is not one of {sorted(KV_TYPES)}")
        if numerics not in NUMERICS:
            raise ValueError(f"numerics = {numerics!r} is not one of {sorted(NUMERICS)}")
        # Range-checked here only as far as the C types go; the library checks the allowed ranges.
        opts.threads = _int(threads, "threads", "int32")
        opts.kv_cache_tokens = _int(kv_cache_tokens, "kv_cache_tokens", "int64")
        opts.kv_cache_bytes = _int(kv_cache_bytes, "kv_cache_bytes", "uint64")
        opts.max_sequences = _int(max_sequences, "max_sequences", "int32")
        opts.max_batch_tokens = _int(max_batch_tokens, "max_batch_tokens", "int64")
        opts.kv_type, opts.numerics = KV_TYPES[kv_type], NUMERICS[numerics]
        if thread_pool is not None:
            if not isinstance(thread_pool, ThreadPool):
                raise TypeError(f"thread_pool must be an ollm.ThreadPool, not {type(thread_pool).__name__}")
            if not thread_pool.handle:
                raise ValueError("thread_pool is closed")
            opts.thread_pool = thread_pool.handle
        handle = c_void_p()
        self.lib.check(self.lib.api.engine_create(self.handle, ctypes.byref(opts), ctypes.byref(handle)))
        return Engine(self.lib, handle)


class Tokenizer(_Handle):
    _destroy = "tokenizer_destroy"

    def encode(self, text: str, add_special: bool = True) -> list[int]:
        data = text.encode()
        ids, n = POINTER(c_int32)(), c_size_t()
        self.lib.check(self.lib.api.tokenize(self.handle, data, len(data), int(add_special), ctypes.byref(ids),
                                             ctypes.byref(n)))
        try:
            return [ids[i] for i in range(n.value)]
        finally:
            self.lib.api.free(ctypes.cast(ids, c_void_p))

    def decode(self, ids: list[int], skip_special: bool = False) -> str:
        arr = _ids(ids)
        text, n = c_void_p(), c_size_t()
        self.lib.check(self.lib.api.detokenize(self.handle, arr, len(ids), int(skip_special), ctypes.byref(text),
                                               ctypes.byref(n)))
        return self.lib.take_string(text, n.value)


class ChatTemplate(_Handle):
    _destroy = "chat_template_destroy"

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        arr = (ChatMessage * len(messages))()
        for i, m in enumerate(messages):
            self.lib.api.chat_message_init(ctypes.byref(arr[i]))
            arr[i].role = _cstr(m["role"], f"messages[{i}]['role']")
            arr[i].content = _cstr(m["content"], f"messages[{i}]['content']")
        text = c_void_p()
        self.lib.check(self.lib.api.chat_template_render(self.handle, arr, len(messages), int(add_generation_prompt),
                                                         ctypes.byref(text)))
        return self.lib.take_string(text)


class Engine(_Handle):
    _destroy = "engine_destroy"

    def _options(self, prompt, max_tokens, stop, stop_at_eos, callback):
        opts = GenerateOptions()
        self.lib.api.generate_options_init(ctypes.byref(opts))
        keep = []
        if isinstance(prompt, str):
            data = prompt.encode()  # passed with its length: NUL bytes are part of the prompt
            buf = ctypes.create_string_buffer(data, len(data) + 1)
            keep.append(buf)
            opts.prompt = ctypes.cast(buf, c_char_p)
            opts.prompt_len = len(data)
        else:
            ids = _ids(prompt, "prompt")
            keep.append(ids)
            opts.prompt_ids, opts.n_prompt_ids = ids, len(ids)
        opts.max_tokens = _int(max_tokens, "max_tokens", "int32", 0)
        opts.stop_at_eos = int(stop_at_eos)
        if stop:
            arr = (c_char_p * len(stop))(*[_cstr(s, f"stop[{i}]") for i, s in enumerate(stop)])
            keep.append(arr)
            opts.stop, opts.n_stop = arr, len(stop)
        if callback is not None:
            opts.on_token = callback
        return opts, keep

    def generate(self, prompt, max_tokens: int = 128, stop=(), stop_at_eos: bool = True, on_text=None) -> dict:
        """Runs one request to completion; on_text(piece) returning False cancels it. An exception
        raised by on_text cancels the request and is re-raised here (ctypes would otherwise print
        it and carry on)."""
        callback = None
        raised = []
        if on_text is not None:
            def forward(_user, piece, length):
                if raised:
                    return 0
                try:
                    return 0 if on_text(ctypes.string_at(piece, length).decode("utf-8", "replace")) is False else 1
                except BaseException as e:  # noqa: BLE001 - re-raised below
                    raised.append(e)
                    return 0
            callback = TOKEN_FN(forward)
        opts, _keep = self._options(prompt, max_tokens, list(stop), stop_at_eos, callback)
        result = c_void_p()
        status = self.lib.api.engine_generate(self.handle, ctypes.byref(opts), ctypes.byref(result))
        if raised:
            if status == 0:
                self.lib.api.result_destroy(result)
            raise raised[0]
        self.lib.check(status)
        try:
            n = c_size_t()
            text_ptr = self.lib.api.result_text(result, ctypes.byref(n))
            text = ctypes.string_at(text_ptr, n.value).decode("utf-8", "replace")
            tokens_ptr = self.lib.api.result_tokens(result, ctypes.byref(n))
            tokens = [tokens_ptr[i] for i in range(n.value)]
            return {"text": text, "tokens": tokens, "finish": FINISH[self.lib.api.result_finish_reason(result)],
                    "prompt_tokens": self.lib.api.result_prompt_tokens(result)}
        finally:
            self.lib.api.result_destroy(result)

    def stream(self, prompt, max_tokens: int = 128, **kwargs):
        """Yields text pieces as they are produced (the engine runs on a worker thread)."""
        pieces: queue.Queue = queue.Queue()
        done = object()
        outcome = {}

        def work():
            try:
                outcome["result"] = self.generate(prompt, max_tokens, on_text=pieces.put, **kwargs)
            except Exception as e:  # re-raised in the caller's thread
                outcome["error"] = e
            pieces.put(done)

        worker = threading.Thread(target=work)
        worker.start()
        try:
            while (piece := pieces.get()) is not done:
                yield piece
        finally:
            self.lib.api.engine_cancel_all(self.handle)
            worker.join()
        if "error" in outcome:
            raise outcome["error"]

    def logits(self, ids: list[int]) -> list[list[float]]:
        arr = _ids(ids)
        out, n = POINTER(c_float)(), c_size_t()
        self.lib.check(self.lib.api.engine_logits(self.handle, arr, len(ids), ctypes.byref(out), ctypes.byref(n)))
        try:
            width = n.value // len(ids)
            return [[out[r * width + j] for j in range(width)] for r in range(len(ids))]
        finally:
            self.lib.api.free(ctypes.cast(out, c_void_p))

    def embeddings(self, ids: list[int], pooling: str = "mean", normalize: bool = False) -> list[float]:
        arr = _ids(ids)
        out, n = POINTER(c_float)(), c_size_t()
        if pooling not in POOLING:
            raise ValueError(f"pooling = {pooling!r} is not one of {sorted(POOLING)}")
        self.lib.check(self.lib.api.engine_embeddings(self.handle, arr, len(ids), POOLING[pooling], int(normalize),
                                                      ctypes.byref(out), ctypes.byref(n)))
        try:
            return [out[i] for i in range(n.value)]
        finally:
            self.lib.api.free(ctypes.cast(out, c_void_p))
