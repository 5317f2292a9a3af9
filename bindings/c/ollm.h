/* ollm C ABI: pure C99 (also valid C++), opaque handles, status codes, a thread-local error
   message. No C++ exception ever crosses this boundary.

   Conventions (every function follows them; exceptions are stated where they occur):
   - Every fallible call returns ollm_status. On failure ollm_last_error() says what and where, and
     out-parameters are left untouched. On success the thread's error message is cleared.
   - Handles come in create/destroy pairs; every destroy accepts NULL.
   - Strings and arrays the library allocates for the caller (char** / int32_t** / float** out-
     parameters) are freed with ollm_free(). Strings returned as `const char*` are owned by the
     handle they came from and live as long as it does (or, for results, until it is destroyed).
   - Strings in and out are UTF-8. Lengths are in bytes.
   - Structs passed in start with `struct_size`: fill them with the matching *_init() function,
     which sets struct_size = sizeof(the struct as this header declares it). The library reads only
     the fields that fit in struct_size, so a program compiled against an older header keeps
     working with a newer library (fields are only ever appended).
   - Thread-safety: an ollm_model and an ollm_tokenizer are immutable once made, shareable by any
     number of threads. An ollm_engine is driven from one thread at a time; ollm_engine_cancel and
     ollm_engine_cancel_all may be called from any thread. Callbacks run on the calling thread
     (the loading thread for progress, the driving thread for tokens).
   - Enumerations cross the boundary as int32_t parameters and fields (a C enum's size is the
     compiler's choice, and an out-of-range value must be refused, not undefined behaviour).
   - dlopen users: resolve only ollm_get_api and call through the table (see the end of this file).

   Grows append-only: existing declarations never change meaning. */
#ifndef OLLM_H
#define OLLM_H

#include <stddef.h>
#include <stdint.h>

/* Self-contained on purpose: C users include this one file. Mirrors include/ollm/export.h. */
#ifndef OLLM_API
#  if defined(_WIN32)
#    if defined(OLLM_BUILDING_LIBRARY)
#      define OLLM_API __declspec(dllexport)
#    else
#      define OLLM_API
#    endif
#  else
#    define OLLM_API __attribute__((visibility("default")))
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header's function table (ollm_get_api). Bumped when functions are appended. */
#define OLLM_API_VERSION 2
#define OLLM_VERSION_MAJOR 0
#define OLLM_VERSION_MINOR 1
#define OLLM_VERSION_PATCH 0

/* Every fallible call returns one of these (values equal ollm::ErrorCode). */
typedef enum ollm_status {
  OLLM_OK = 0,
  OLLM_ERR_INVALID_ARGUMENT = 1,
  OLLM_ERR_INVALID_MODEL_FILE = 2,
  OLLM_ERR_UNSUPPORTED = 3,
  OLLM_ERR_OUT_OF_MEMORY = 4,
  OLLM_ERR_IO = 5,
  OLLM_ERR_CANCELLED = 6,
  OLLM_ERR_NOT_FOUND = 7,
  OLLM_ERR_INTERNAL = 8,
  OLLM_ERR_DEVICE_FAILURE = 9 /* the GPU failed (kernel fault, lost or reset device) */
} ollm_status;

typedef enum ollm_log_level {
  OLLM_LOG_DEBUG = 0,
  OLLM_LOG_INFO = 1,
  OLLM_LOG_WARNING = 2,
  OLLM_LOG_ERROR = 3,
  OLLM_LOG_OFF = 4
} ollm_log_level;

typedef enum ollm_kv_type { OLLM_KV_F16 = 0, OLLM_KV_BF16 = 1, OLLM_KV_F32 = 2, OLLM_KV_Q8_0 = 3 } ollm_kv_type;
/* How the forward pass rounds (ollm::Numerics): ollm's own kernels, llama.cpp's CPU rounding
   steps reproduced so that logits track llama.cpp's (needs an F16 or F32 KV cache), or exact:
   f32 activations and arithmetic throughout, the dequantized model as transformers computes it
   (use OLLM_KV_F32 for the reference match). */
typedef enum ollm_numerics {
  OLLM_NUMERICS_STANDARD = 0,
  OLLM_NUMERICS_LLAMACPP = 1,
  OLLM_NUMERICS_EXACT = 2
} ollm_numerics;

typedef enum ollm_finish_reason {
  OLLM_FINISH_NONE = 0,         /* still running */
  OLLM_FINISH_LENGTH = 1,       /* max_tokens reached */
  OLLM_FINISH_EOS = 2,          /* end-of-sequence / end-of-turn token */
  OLLM_FINISH_STOP_STRING = 3,  /* a stop string appeared (not part of the text) */
  OLLM_FINISH_CANCELLED = 4,    /* cancelled, or the token callback returned 0 */
  OLLM_FINISH_CONTEXT_FULL = 5, /* context or KV budget exhausted (ollm_result_error says which) */
  OLLM_FINISH_ERROR = 6         /* this request failed on its own (ollm_result_error says how) */
} ollm_finish_reason;

typedef enum ollm_pooling { OLLM_POOLING_NONE = 0, OLLM_POOLING_MEAN = 1, OLLM_POOLING_LAST = 2 } ollm_pooling;

typedef struct ollm_model_info ollm_model_info;
typedef struct ollm_model ollm_model;
typedef struct ollm_tokenizer ollm_tokenizer;
typedef struct ollm_chat_template ollm_chat_template;
typedef struct ollm_sampler ollm_sampler;
typedef struct ollm_engine ollm_engine;
typedef struct ollm_result ollm_result;
typedef struct ollm_thread_pool ollm_thread_pool;

/* ---- Library ------------------------------------------------------------------------------- */

/* "0.1.0" of the library actually loaded. Static storage; thread-safe. */
OLLM_API const char* ollm_version(void);
/* JSON object: {"version", "backends": [...], "cpu_features": [...], "onednn", "cuda_devices",
   "cuda_status"}. Computed once; static storage; thread-safe. */
OLLM_API const char* ollm_build_info(void);
/* Message of the last failed call on this thread ("" if none). Valid until the next ollm call on
   the same thread; owned by the library. */
OLLM_API const char* ollm_last_error(void);
/* "OLLM_ERR_IO" etc.; static storage. */
OLLM_API const char* ollm_status_name(int32_t status);
/* Frees memory the library allocated for the caller (NULL accepted). */
OLLM_API void ollm_free(void* p);

/* Receives the library's log messages (UTF-8, no trailing newline) at min_level and above.
   fn == NULL removes the sink (the default: the library never prints). Process-wide; thread-safe;
   fn may be called from any thread that runs library code. */
typedef void (*ollm_log_fn)(void* user_data, ollm_log_level level, const char* message);
OLLM_API ollm_status ollm_set_log_callback(ollm_log_fn fn, void* user_data, int32_t min_level);

/* ---- Model description without the weights ------------------------------------------------- */

/* On success *out receives a new handle. Read-only queries may run concurrently. */
OLLM_API ollm_status ollm_model_info_open(const char* path, ollm_model_info** out);
OLLM_API void ollm_model_info_destroy(ollm_model_info* info);
/* Architecture name ("gemma3"); owned by the handle. */
OLLM_API const char* ollm_model_info_architecture(const ollm_model_info* info);
OLLM_API size_t ollm_model_info_tensor_count(const ollm_model_info* info);

/* ---- Model --------------------------------------------------------------------------------- */

/* Called as loading advances with the fraction done (0..1); return 0 to cancel the load
   (ollm_model_load then fails with OLLM_ERR_CANCELLED). */
typedef int (*ollm_progress_fn)(void* user_data, float fraction);

/* When to hash the model's files against a sha256sum manifest beside it (<model>.sha256 or
   SHA256SUMS; a mismatch fails the load with OLLM_ERR_INVALID_MODEL_FILE naming the file and both
   hashes). AUTO: when a manifest is present, skipping files the checksum cache remembers with the
   same device, inode, size and times; ALWAYS: hash every listed file; NEVER: do not look. */
typedef enum ollm_checksum_policy {
  OLLM_CHECKSUMS_AUTO = 0,
  OLLM_CHECKSUMS_ALWAYS = 1,
  OLLM_CHECKSUMS_NEVER = 2
} ollm_checksum_policy;

typedef struct ollm_model_options {
  size_t struct_size;
  const char* device;       /* "cpu" (NULL = "cpu"), "cuda" or "cuda:N" (a build with CUDA) */
  int32_t threads;          /* default compute threads of engines made from this model; 0 = all cores */
  int32_t use_mmap;         /* nonzero: map the file (default); 0: read the weights into memory */
  ollm_progress_fn progress;
  void* progress_user_data;
  int32_t verify_checksums; /* nonzero: OLLM_CHECKSUMS_ALWAYS (as it always meant); 0: checksum_policy decides */
  int32_t checksum_policy;  /* an ollm_checksum_policy; default OLLM_CHECKSUMS_AUTO (a later field: an
                               older caller's shorter struct gets the default) */
  const char* checksum_cache; /* file remembering verified files; NULL: $XDG_CACHE_HOME/ollm/verified-sha256
                                 or ~/.cache/ollm/verified-sha256 (a later field) */
} ollm_model_options;

/* Sets struct_size and the defaults. */
OLLM_API void ollm_model_options_init(ollm_model_options* options);
/* A GGUF file or a Hugging Face model directory. options may be NULL (defaults). */
OLLM_API ollm_status ollm_model_load(const char* path, const ollm_model_options* options, ollm_model** out);
/* Engines and tokenizers made from the model keep it alive: destroying the handle early is safe. */
OLLM_API void ollm_model_destroy(ollm_model* model);
/* Owned by the model. */
OLLM_API const char* ollm_model_architecture(const ollm_model* model);
OLLM_API const char* ollm_model_name(const ollm_model* model);
/* The model's own chat template source, or NULL when it has none. Owned by the model. */
OLLM_API const char* ollm_model_chat_template(const ollm_model* model);
/* 0 when model is NULL. */
OLLM_API int64_t ollm_model_vocab_size(const ollm_model* model);
OLLM_API int64_t ollm_model_context_length(const ollm_model* model);
OLLM_API int64_t ollm_model_hidden_size(const ollm_model* model);
OLLM_API int64_t ollm_model_layer_count(const ollm_model* model);
OLLM_API uint64_t ollm_model_weight_bytes(const ollm_model* model);

/* ---- Tokenizer and chat template ----------------------------------------------------------- */

/* A handle on the model's tokenizer (independent lifetime; shares the vocabulary). */
OLLM_API ollm_status ollm_tokenizer_from_model(const ollm_model* model, ollm_tokenizer** out);
/* From a Hugging Face tokenizer.json (tokenizer_config_json may be NULL). */
OLLM_API ollm_status ollm_tokenizer_load(const char* tokenizer_json, const char* tokenizer_config_json,
                                         ollm_tokenizer** out);
OLLM_API void ollm_tokenizer_destroy(ollm_tokenizer* tokenizer);
/* text: text_len bytes (need not be NUL-terminated). add_special: BOS etc. as the model's
   tokenizer adds them. *ids (free with ollm_free; NULL when *n_ids is 0) and *n_ids. */
OLLM_API ollm_status ollm_tokenize(const ollm_tokenizer* tokenizer, const char* text, size_t text_len, int add_special,
                                   int32_t** ids, size_t* n_ids);
/* *text: NUL-terminated, free with ollm_free; *text_len (may be NULL) its length. */
OLLM_API ollm_status ollm_detokenize(const ollm_tokenizer* tokenizer, const int32_t* ids, size_t n_ids,
                                     int skip_special, char** text, size_t* text_len);
OLLM_API int64_t ollm_tokenizer_vocab_size(const ollm_tokenizer* tokenizer);
/* -1 when the tokenizer has none. */
OLLM_API int32_t ollm_tokenizer_bos_id(const ollm_tokenizer* tokenizer);
OLLM_API int32_t ollm_tokenizer_eos_id(const ollm_tokenizer* tokenizer);

typedef struct ollm_chat_message {
  size_t struct_size; /* set by ollm_chat_message_init; an array's elements are struct_size apart */
  const char* role;
  const char* content;
} ollm_chat_message;

OLLM_API void ollm_chat_message_init(ollm_chat_message* message);
/* The model's own chat template; OLLM_ERR_NOT_FOUND when the model has none (base models often
   do not: then parse the instruct model's template with ollm_chat_template_parse). */
OLLM_API ollm_status ollm_chat_template_from_model(const ollm_model* model, ollm_chat_template** out);
/* Jinja2 source as found in tokenizer_config.json's "chat_template". Syntax errors:
   OLLM_ERR_INVALID_MODEL_FILE, unsupported constructs: OLLM_ERR_UNSUPPORTED (line:column given). */
OLLM_API ollm_status ollm_chat_template_parse(const char* source, ollm_chat_template** out);
OLLM_API void ollm_chat_template_destroy(ollm_chat_template* chat_template);
/* Sets a special token the template refers to by name ("bos_token", "eos_token", ...). Not
   thread-safe: set tokens before sharing the handle. */
OLLM_API ollm_status ollm_chat_template_set_special_token(ollm_chat_template* chat_template, const char* name,
                                                          const char* value);
/* Renders messages[0..n_messages) as transformers' apply_chat_template(tokenize=False) does.
   *text: free with ollm_free. Rendering is thread-safe. */
OLLM_API ollm_status ollm_chat_template_render(const ollm_chat_template* chat_template,
                                               const ollm_chat_message* messages, size_t n_messages,
                                               int add_generation_prompt, char** text);
/* The same from JSON: messages_json is an OpenAI-style array; tools_json (array) and
   extra_variables_json (object, e.g. {"enable_thinking": false}) may be NULL. */
OLLM_API ollm_status ollm_chat_template_render_json(const ollm_chat_template* chat_template, const char* messages_json,
                                                    const char* tools_json, const char* extra_variables_json,
                                                    int add_generation_prompt, char** text);

/* ---- Sampler settings ---------------------------------------------------------------------- */

/* Greedy until set otherwise. Values are checked when a request is submitted (an out-of-range
   value fails ollm_engine_submit / _generate with OLLM_ERR_INVALID_ARGUMENT naming it). */
OLLM_API ollm_status ollm_sampler_create(ollm_sampler** out);
OLLM_API void ollm_sampler_destroy(ollm_sampler* sampler);
OLLM_API ollm_status ollm_sampler_set_temperature(ollm_sampler* sampler, float temperature); /* 0 = greedy */
OLLM_API ollm_status ollm_sampler_set_top_k(ollm_sampler* sampler, int32_t top_k);           /* 0 = off */
OLLM_API ollm_status ollm_sampler_set_top_p(ollm_sampler* sampler, float top_p);             /* 1 = off */
OLLM_API ollm_status ollm_sampler_set_min_p(ollm_sampler* sampler, float min_p);             /* 0 = off */
OLLM_API ollm_status ollm_sampler_set_typical_p(ollm_sampler* sampler, float typical_p);     /* 1 = off */
/* repetition (1 = off; HF style), frequency and presence (0 = off; OpenAI style), over the last
   `window` tokens (-1: all). */
OLLM_API ollm_status ollm_sampler_set_penalties(ollm_sampler* sampler, float repetition, float frequency,
                                                float presence, int32_t window);
OLLM_API ollm_status ollm_sampler_set_seed(ollm_sampler* sampler, uint64_t seed);
/* Adds bias to token's logit (repeatable; ollm_sampler_clear_logit_bias removes all). */
OLLM_API ollm_status ollm_sampler_add_logit_bias(ollm_sampler* sampler, int32_t token, float bias);
OLLM_API ollm_status ollm_sampler_clear_logit_bias(ollm_sampler* sampler);

/* ---- Thread pool: compute threads shared by engines ---------------------------------------- */

/* A pool of `threads` compute threads (1..255, the calling thread included) that any number of
   engines may share (ollm_engine_options.thread_pool). A pool runs one parallel region at a time
   (engines sharing it take turns region by region), so engines on one pool never ask the machine
   for more threads than the pool has. Engines keep the pool alive: destroying the handle while
   engines use it is safe (its threads end with the last of them). Thread-safe. */
OLLM_API ollm_status ollm_thread_pool_create(int32_t threads, ollm_thread_pool** out);
OLLM_API void ollm_thread_pool_destroy(ollm_thread_pool* pool);
/* The pool's threads; 0 when pool is NULL. */
OLLM_API int32_t ollm_thread_pool_size(const ollm_thread_pool* pool);

/* ---- Engine: batched generation over one model --------------------------------------------- */

typedef struct ollm_engine_options {
  size_t struct_size;
  int32_t threads;           /* 0: the model's default (ollm_model_options.threads) */
  int64_t kv_cache_tokens;   /* KV budget in tokens shared by all sequences (default 4096) */
  uint64_t kv_cache_bytes;   /* or in bytes, when non-zero and smaller */
  int32_t kv_type;           /* an ollm_kv_type; default OLLM_KV_F16 */
  int32_t max_sequences;     /* sequences advanced together per step (default 8) */
  int64_t max_batch_tokens;  /* tokens per step (default 512) */
  int32_t numerics;          /* an ollm_numerics; default OLLM_NUMERICS_STANDARD (a later field:
                                an older caller's shorter struct gets the default) */
  ollm_thread_pool* thread_pool; /* the pool the engine computes on (threads then caps how many of
                                its threads it uses); NULL: the library's shared pool, one thread
                                per hardware thread (the default; a later field) */
} ollm_engine_options;

OLLM_API void ollm_engine_options_init(ollm_engine_options* options);
/* options may be NULL (defaults). The engine keeps the model alive. */
OLLM_API ollm_status ollm_engine_create(const ollm_model* model, const ollm_engine_options* options,
                                        ollm_engine** out);
OLLM_API void ollm_engine_destroy(ollm_engine* engine);

/* Receives each piece of text as it becomes final (piece_len bytes, NUL-terminated); return 0 to
   cancel the request. Runs on the thread driving the engine. */
typedef int (*ollm_token_fn)(void* user_data, const char* piece, size_t piece_len);

typedef struct ollm_generate_options {
  size_t struct_size;
  const char* prompt;             /* tokenized with the model's tokenizer when n_prompt_ids is 0;
                                     NUL-terminated unless prompt_len says its length */
  const int32_t* prompt_ids;
  size_t n_prompt_ids;
  int32_t add_special_tokens;     /* nonzero (default): BOS etc. when tokenizing prompt */
  int32_t max_tokens;             /* default 128 */
  const ollm_sampler* sampler;    /* NULL: greedy. Copied at submit. */
  const char* const* stop;        /* stop strings, matched across token boundaries */
  size_t n_stop;
  int32_t stop_at_eos;            /* nonzero (default): stop on the model's EOS / end-of-turn ids */
  uint64_t session;               /* 0: a one-off sequence; else reuse that session's KV cache */
  ollm_token_fn on_token;         /* may be NULL */
  void* user_data;
  size_t prompt_len;              /* nonzero: prompt is this many bytes (it may hold NUL bytes);
                                     0: prompt is NUL-terminated (a later field: an older caller's
                                     shorter struct gets 0) */
} ollm_generate_options;

OLLM_API void ollm_generate_options_init(ollm_generate_options* options);
/* Queues a request; *request_id identifies it. The request runs when the engine is stepped. */
OLLM_API ollm_status ollm_engine_submit(ollm_engine* engine, const ollm_generate_options* options,
                                        uint64_t* request_id);
/* One batched forward step over the queued requests; *more (may be NULL) = 0 when none is left. */
OLLM_API ollm_status ollm_engine_step(ollm_engine* engine, int* more);
/* Steps until every queued request has finished. */
OLLM_API ollm_status ollm_engine_run(ollm_engine* engine);
/* The result of a finished request (then forgotten by the engine): destroy it with
   ollm_result_destroy. OLLM_ERR_INVALID_ARGUMENT when unknown or still running. */
OLLM_API ollm_status ollm_engine_take_result(ollm_engine* engine, uint64_t request_id, ollm_result** out);
/* Submit, run until this request is done, take its result. */
OLLM_API ollm_status ollm_engine_generate(ollm_engine* engine, const ollm_generate_options* options,
                                          ollm_result** out);
/* Thread-safe: the request (or every request submitted and not yet taken) finishes with
   OLLM_FINISH_CANCELLED at the next step. Unknown ids are ignored. */
OLLM_API ollm_status ollm_engine_cancel(ollm_engine* engine, uint64_t request_id);
OLLM_API ollm_status ollm_engine_cancel_all(ollm_engine* engine);
/* Multi-turn sessions keep their KV cache between requests (a prompt that starts with the
   session's history reuses it). Reset forgets the history but keeps the id. */
OLLM_API ollm_status ollm_engine_open_session(ollm_engine* engine, uint64_t* session);
OLLM_API ollm_status ollm_engine_close_session(ollm_engine* engine, uint64_t session);
OLLM_API ollm_status ollm_engine_reset_session(ollm_engine* engine, uint64_t session);
/* Every position's logits of ids from a fresh sequence: *logits [n_ids, vocab] row-major (free
   with ollm_free), *n_floats = n_ids * vocab. */
OLLM_API ollm_status ollm_engine_logits(ollm_engine* engine, const int32_t* ids, size_t n_ids, float** logits,
                                        size_t* n_floats);
/* The model's final-norm hidden states of ids: [n_ids, hidden] (OLLM_POOLING_NONE) or [hidden]
   (MEAN / LAST); normalize != 0 scales each vector to unit length. Free with ollm_free. */
OLLM_API ollm_status ollm_engine_embeddings(ollm_engine* engine, const int32_t* ids, size_t n_ids,
                                            int32_t pooling, int normalize, float** embeddings,
                                            size_t* n_floats);
/* Tokens of KV cache not held by any sequence or session; -1 when engine is NULL. */
OLLM_API int64_t ollm_engine_kv_free_tokens(const ollm_engine* engine);

/* ---- Results ------------------------------------------------------------------------------- */

OLLM_API void ollm_result_destroy(ollm_result* result);
/* The generated text (stop string excluded), NUL-terminated; *len (may be NULL) its length. */
OLLM_API const char* ollm_result_text(const ollm_result* result, size_t* len);
/* The generated token ids (the stop / EOS token included). */
OLLM_API const int32_t* ollm_result_tokens(const ollm_result* result, size_t* n_tokens);
OLLM_API ollm_finish_reason ollm_result_finish_reason(const ollm_result* result);
OLLM_API int64_t ollm_result_prompt_tokens(const ollm_result* result);
OLLM_API int64_t ollm_result_reused_tokens(const ollm_result* result);
/* Why the request ended early (OLLM_FINISH_CONTEXT_FULL), else "". */
OLLM_API const char* ollm_result_error(const ollm_result* result);

/* ---- Function table for dlopen users ------------------------------------------------------- */

/* One pointer per function above, in a fixed order. Append-only: version N+1 adds members at the
   end and never moves one (offsets are pinned by static_assert in the library's source). */
typedef struct ollm_api {
  uint32_t version;     /* the version the library filled in (>= the one asked for) */
  uint32_t struct_size; /* sizeof(ollm_api) as the library knows it */
  const char* (*version_string)(void);
  const char* (*build_info)(void);
  const char* (*last_error)(void);
  const char* (*status_name)(int32_t status);
  void (*free)(void* p);
  ollm_status (*set_log_callback)(ollm_log_fn fn, void* user_data, int32_t min_level);
  void (*model_options_init)(ollm_model_options* options);
  ollm_status (*model_load)(const char* path, const ollm_model_options* options, ollm_model** out);
  void (*model_destroy)(ollm_model* model);
  const char* (*model_architecture)(const ollm_model* model);
  const char* (*model_name)(const ollm_model* model);
  const char* (*model_chat_template)(const ollm_model* model);
  int64_t (*model_vocab_size)(const ollm_model* model);
  int64_t (*model_context_length)(const ollm_model* model);
  int64_t (*model_hidden_size)(const ollm_model* model);
  int64_t (*model_layer_count)(const ollm_model* model);
  uint64_t (*model_weight_bytes)(const ollm_model* model);
  ollm_status (*tokenizer_from_model)(const ollm_model* model, ollm_tokenizer** out);
  ollm_status (*tokenizer_load)(const char* tokenizer_json, const char* tokenizer_config_json, ollm_tokenizer** out);
  void (*tokenizer_destroy)(ollm_tokenizer* tokenizer);
  ollm_status (*tokenize)(const ollm_tokenizer* tokenizer, const char* text, size_t text_len, int add_special,
                          int32_t** ids, size_t* n_ids);
  ollm_status (*detokenize)(const ollm_tokenizer* tokenizer, const int32_t* ids, size_t n_ids, int skip_special,
                            char** text, size_t* text_len);
  int64_t (*tokenizer_vocab_size)(const ollm_tokenizer* tokenizer);
  int32_t (*tokenizer_bos_id)(const ollm_tokenizer* tokenizer);
  int32_t (*tokenizer_eos_id)(const ollm_tokenizer* tokenizer);
  void (*chat_message_init)(ollm_chat_message* message);
  ollm_status (*chat_template_from_model)(const ollm_model* model, ollm_chat_template** out);
  ollm_status (*chat_template_parse)(const char* source, ollm_chat_template** out);
  void (*chat_template_destroy)(ollm_chat_template* chat_template);
  ollm_status (*chat_template_set_special_token)(ollm_chat_template* chat_template, const char* name,
                                                 const char* value);
  ollm_status (*chat_template_render)(const ollm_chat_template* chat_template, const ollm_chat_message* messages,
                                      size_t n_messages, int add_generation_prompt, char** text);
  ollm_status (*chat_template_render_json)(const ollm_chat_template* chat_template, const char* messages_json,
                                           const char* tools_json, const char* extra_variables_json,
                                           int add_generation_prompt, char** text);
  ollm_status (*sampler_create)(ollm_sampler** out);
  void (*sampler_destroy)(ollm_sampler* sampler);
  ollm_status (*sampler_set_temperature)(ollm_sampler* sampler, float temperature);
  ollm_status (*sampler_set_top_k)(ollm_sampler* sampler, int32_t top_k);
  ollm_status (*sampler_set_top_p)(ollm_sampler* sampler, float top_p);
  ollm_status (*sampler_set_min_p)(ollm_sampler* sampler, float min_p);
  ollm_status (*sampler_set_typical_p)(ollm_sampler* sampler, float typical_p);
  ollm_status (*sampler_set_penalties)(ollm_sampler* sampler, float repetition, float frequency, float presence,
                                       int32_t window);
  ollm_status (*sampler_set_seed)(ollm_sampler* sampler, uint64_t seed);
  ollm_status (*sampler_add_logit_bias)(ollm_sampler* sampler, int32_t token, float bias);
  ollm_status (*sampler_clear_logit_bias)(ollm_sampler* sampler);
  void (*engine_options_init)(ollm_engine_options* options);
  ollm_status (*engine_create)(const ollm_model* model, const ollm_engine_options* options, ollm_engine** out);
  void (*engine_destroy)(ollm_engine* engine);
  void (*generate_options_init)(ollm_generate_options* options);
  ollm_status (*engine_submit)(ollm_engine* engine, const ollm_generate_options* options, uint64_t* request_id);
  ollm_status (*engine_step)(ollm_engine* engine, int* more);
  ollm_status (*engine_run)(ollm_engine* engine);
  ollm_status (*engine_take_result)(ollm_engine* engine, uint64_t request_id, ollm_result** out);
  ollm_status (*engine_generate)(ollm_engine* engine, const ollm_generate_options* options, ollm_result** out);
  ollm_status (*engine_cancel)(ollm_engine* engine, uint64_t request_id);
  ollm_status (*engine_cancel_all)(ollm_engine* engine);
  ollm_status (*engine_open_session)(ollm_engine* engine, uint64_t* session);
  ollm_status (*engine_close_session)(ollm_engine* engine, uint64_t session);
  ollm_status (*engine_reset_session)(ollm_engine* engine, uint64_t session);
  ollm_status (*engine_logits)(ollm_engine* engine, const int32_t* ids, size_t n_ids, float** logits,
                               size_t* n_floats);
  ollm_status (*engine_embeddings)(ollm_engine* engine, const int32_t* ids, size_t n_ids, int32_t pooling,
                                   int normalize, float** embeddings, size_t* n_floats);
  int64_t (*engine_kv_free_tokens)(const ollm_engine* engine);
  void (*result_destroy)(ollm_result* result);
  const char* (*result_text)(const ollm_result* result, size_t* len);
  const int32_t* (*result_tokens)(const ollm_result* result, size_t* n_tokens);
  ollm_finish_reason (*result_finish_reason)(const ollm_result* result);
  int64_t (*result_prompt_tokens)(const ollm_result* result);
  int64_t (*result_reused_tokens)(const ollm_result* result);
  const char* (*result_error)(const ollm_result* result);
  ollm_status (*model_info_open)(const char* path, ollm_model_info** out);
  void (*model_info_destroy)(ollm_model_info* info);
  const char* (*model_info_architecture)(const ollm_model_info* info);
  size_t (*model_info_tensor_count)(const ollm_model_info* info);
  /* OLLM_API_VERSION 2 */
  ollm_status (*thread_pool_create)(int32_t threads, ollm_thread_pool** out);
  void (*thread_pool_destroy)(ollm_thread_pool* pool);
  int32_t (*thread_pool_size)(const ollm_thread_pool* pool);
} ollm_api;

/* The table for `version` (1..OLLM_API_VERSION of the loaded library), or NULL when the library
   is older than the caller asks for. Static storage; thread-safe. The one symbol a dlopen user
   needs:  const ollm_api* api = ((const ollm_api* (*)(uint32_t))dlsym(h, "ollm_get_api"))(OLLM_API_VERSION); */
OLLM_API const ollm_api* ollm_get_api(uint32_t version);

#ifdef __cplusplus
}
#endif

#endif /* OLLM_H */
