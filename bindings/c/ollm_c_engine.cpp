// C ABI, part 2: sampler settings, engines (submit / step / generate / cancel, sessions, logits,
// embeddings) and results. Every entry point catches everything (c_api_support.hpp).
#include <string>
#include <vector>

#include "c_api_support.hpp"

using namespace ollm::c_api;

namespace {

ollm_sampler* checked(ollm_sampler* s, const char* function) {
  require(s, function, "sampler");
  return s;
}

ollm::DType kv_dtype(int32_t t) {
  switch (t) {
    case OLLM_KV_F16: return ollm::DType::f16;
    case OLLM_KV_BF16: return ollm::DType::bf16;
    case OLLM_KV_F32: return ollm::DType::f32;
    case OLLM_KV_Q8_0: return ollm::DType::q8_0;
  }
  invalid("[c-api] ollm_engine_create: kv_type " + std::to_string(t) + " is not an ollm_kv_type");
}

ollm::Numerics numerics_of(int32_t n) {
  switch (n) {
    case OLLM_NUMERICS_STANDARD: return ollm::Numerics::standard;
    case OLLM_NUMERICS_LLAMACPP: return ollm::Numerics::llamacpp;
    case OLLM_NUMERICS_EXACT: return ollm::Numerics::exact;
  }
  invalid("[c-api] ollm_engine_create: numerics " + std::to_string(n) + " is not an ollm_numerics");
}

// The C++ request for the caller's options; the callback forwards text pieces.
ollm::GenerationRequest make_request(const ollm_generate_options& o, const char* function,
                                     ollm::StreamCallback& on_text) {
  ollm::GenerationRequest r;
  if (o.n_prompt_ids > 0) {
    require(o.prompt_ids, function, "prompt_ids");
    r.prompt_ids.assign(o.prompt_ids, o.prompt_ids + o.n_prompt_ids);
  } else if (o.prompt_len > 0) {
    require(o.prompt, function, "prompt");
    r.prompt.assign(o.prompt, o.prompt_len);
  } else if (o.prompt != nullptr) {
    r.prompt = o.prompt;
  }
  r.add_special_tokens = o.add_special_tokens != 0;
  r.max_tokens = o.max_tokens;
  if (o.sampler) r.sampling = o.sampler->params;
  if (o.n_stop > 0) require(o.stop, function, "stop");
  for (size_t i = 0; i < o.n_stop; ++i) {
    if (o.stop[i] == nullptr) invalid(std::string("[c-api] ") + function + ": stop[" + std::to_string(i) + "] is NULL");
    r.stop.emplace_back(o.stop[i]);
  }
  r.stop_at_eos = o.stop_at_eos != 0;
  r.session = o.session;
  if (o.on_token != nullptr) {
    const ollm_token_fn fn = o.on_token;
    void* user = o.user_data;
    on_text = [fn, user](std::string_view piece) {
      const std::string text(piece);  // NUL-terminated for C
      return fn(user, text.c_str(), text.size()) != 0;
    };
  }
  return r;
}

ollm::Engine& engine_of(ollm_engine* e, const char* function) {
  require(e, function, "engine");
  return *e->engine;
}

uint64_t submit(ollm_engine* engine, const ollm_generate_options* options, const char* function) {
  ollm::Engine& e = engine_of(engine, function);
  require(options, function, "options");
  const ollm_generate_options o = read_sized(options, ollm_generate_options_init, function);
  ollm::StreamCallback on_text;
  ollm::GenerationRequest request = make_request(o, function, on_text);
  std::lock_guard lock(engine->live_mutex);  // cancel_all must see it before it can run
  const uint64_t id = e.submit(std::move(request), std::move(on_text));
  engine->live.insert(id);
  return id;
}

ollm_result* take(ollm_engine* engine, uint64_t id) {
  auto result = std::make_unique<ollm_result>();
  result->result = engine->engine->take_result(id);
  std::lock_guard lock(engine->live_mutex);
  engine->live.erase(id);
  return result.release();
}

}  // namespace

extern "C" {

// ---- Sampler ----

ollm_status ollm_sampler_create(ollm_sampler** out) {
  return guarded([&] {
    require(out, "ollm_sampler_create", "out");
    *out = new ollm_sampler{};
  });
}
void ollm_sampler_destroy(ollm_sampler* sampler) { delete sampler; }

ollm_status ollm_sampler_set_temperature(ollm_sampler* s, float v) {
  return guarded([&] { checked(s, "ollm_sampler_set_temperature")->params.temperature = v; });
}
ollm_status ollm_sampler_set_top_k(ollm_sampler* s, int32_t v) {
  return guarded([&] { checked(s, "ollm_sampler_set_top_k")->params.top_k = v; });
}
ollm_status ollm_sampler_set_top_p(ollm_sampler* s, float v) {
  return guarded([&] { checked(s, "ollm_sampler_set_top_p")->params.top_p = v; });
}
ollm_status ollm_sampler_set_min_p(ollm_sampler* s, float v) {
  return guarded([&] { checked(s, "ollm_sampler_set_min_p")->params.min_p = v; });
}
ollm_status ollm_sampler_set_typical_p(ollm_sampler* s, float v) {
  return guarded([&] { checked(s, "ollm_sampler_set_typical_p")->params.typical_p = v; });
}
ollm_status ollm_sampler_set_penalties(ollm_sampler* s, float repetition, float frequency, float presence,
                                       int32_t window) {
  return guarded([&] {
    auto& p = checked(s, "ollm_sampler_set_penalties")->params;
    p.repetition_penalty = repetition;
    p.frequency_penalty = frequency;
    p.presence_penalty = presence;
    p.penalty_window = window;
  });
}
ollm_status ollm_sampler_set_seed(ollm_sampler* s, uint64_t seed) {
  return guarded([&] { checked(s, "ollm_sampler_set_seed")->params.seed = seed; });
}
ollm_status ollm_sampler_add_logit_bias(ollm_sampler* s, int32_t token, float bias) {
  return guarded([&] { checked(s, "ollm_sampler_add_logit_bias")->params.logit_bias.emplace_back(token, bias); });
}
ollm_status ollm_sampler_clear_logit_bias(ollm_sampler* s) {
  return guarded([&] { checked(s, "ollm_sampler_clear_logit_bias")->params.logit_bias.clear(); });
}

// ---- Thread pool ----

ollm_status ollm_thread_pool_create(int32_t threads, ollm_thread_pool** out) {
  return guarded([&] {
    require(out, "ollm_thread_pool_create", "out");
    if (threads < 1 || threads > 255)
      invalid("[c-api] ollm_thread_pool_create: threads " + std::to_string(threads) +
              " is out of range (1..255)");
    auto handle = std::make_unique<ollm_thread_pool>();
    handle->pool = std::make_shared<ollm::ThreadPool>(threads);
    *out = handle.release();
  });
}

void ollm_thread_pool_destroy(ollm_thread_pool* pool) { delete pool; }

int32_t ollm_thread_pool_size(const ollm_thread_pool* pool) { return pool ? pool->pool->size() : 0; }

// ---- Engine ----

void ollm_engine_options_init(ollm_engine_options* options) {
  if (options == nullptr) return;
  const ollm::EngineOptions d;
  *options = ollm_engine_options{};
  options->struct_size = sizeof(ollm_engine_options);
  options->threads = 0;
  options->kv_cache_tokens = d.kv_cache_tokens;
  options->kv_cache_bytes = d.kv_cache_bytes;
  options->kv_type = OLLM_KV_F16;
  options->max_sequences = d.max_sequences;
  options->max_batch_tokens = d.max_batch_tokens;
  options->numerics = OLLM_NUMERICS_STANDARD;
  options->thread_pool = nullptr;
}

ollm_status ollm_engine_create(const ollm_model* model, const ollm_engine_options* options, ollm_engine** out) {
  return guarded([&] {
    require(model, "ollm_engine_create", "model");
    require(out, "ollm_engine_create", "out");
    const ollm_engine_options o = read_sized(options, ollm_engine_options_init, "ollm_engine_create");
    if (o.threads < 0 || o.threads > 1024)
      invalid("[c-api] ollm_engine_create: threads " + std::to_string(o.threads) + " is out of range (0..1024)");
    ollm::EngineOptions eo;
    eo.threads = o.threads > 0 ? o.threads : model->threads;
    eo.kv_cache_tokens = o.kv_cache_tokens;
    eo.kv_cache_bytes = o.kv_cache_bytes;
    eo.kv_type = kv_dtype(o.kv_type);
    eo.max_sequences = o.max_sequences;
    eo.max_batch_tokens = o.max_batch_tokens;
    eo.numerics = numerics_of(o.numerics);
    if (o.thread_pool != nullptr) eo.thread_pool = o.thread_pool->pool;
    auto handle = std::make_unique<ollm_engine>();
    handle->model = model->model;
    handle->engine = std::make_unique<ollm::Engine>(model->model, eo);
    *out = handle.release();
  });
}

void ollm_engine_destroy(ollm_engine* engine) { delete engine; }

void ollm_generate_options_init(ollm_generate_options* options) {
  if (options == nullptr) return;
  *options = ollm_generate_options{};
  options->struct_size = sizeof(ollm_generate_options);
  options->add_special_tokens = 1;
  options->max_tokens = 128;
  options->stop_at_eos = 1;
}

ollm_status ollm_engine_submit(ollm_engine* engine, const ollm_generate_options* options, uint64_t* request_id) {
  return guarded([&] {
    require(request_id, "ollm_engine_submit", "request_id");
    *request_id = submit(engine, options, "ollm_engine_submit");
  });
}

ollm_status ollm_engine_step(ollm_engine* engine, int* more) {
  return guarded([&] {
    const bool m = engine_of(engine, "ollm_engine_step").step();
    if (more) *more = m ? 1 : 0;
  });
}

ollm_status ollm_engine_run(ollm_engine* engine) {
  return guarded([&] { engine_of(engine, "ollm_engine_run").run_until_done(); });
}

ollm_status ollm_engine_take_result(ollm_engine* engine, uint64_t request_id, ollm_result** out) {
  return guarded([&] {
    engine_of(engine, "ollm_engine_take_result");
    require(out, "ollm_engine_take_result", "out");
    *out = take(engine, request_id);
  });
}

ollm_status ollm_engine_generate(ollm_engine* engine, const ollm_generate_options* options, ollm_result** out) {
  return guarded([&] {
    require(out, "ollm_engine_generate", "out");
    const uint64_t id = submit(engine, options, "ollm_engine_generate");
    ollm::Engine& e = *engine->engine;
    try {
      while (!e.finished(id) && e.step()) {
      }
    } catch (...) {
      // A failed step leaves the request queued: cancel it so a later run does not resume it.
      e.cancel(id);
      throw;
    }
    *out = take(engine, id);
  });
}

ollm_status ollm_engine_cancel(ollm_engine* engine, uint64_t request_id) {
  return guarded([&] { engine_of(engine, "ollm_engine_cancel").cancel(request_id); });
}

ollm_status ollm_engine_cancel_all(ollm_engine* engine) {
  return guarded([&] {
    ollm::Engine& e = engine_of(engine, "ollm_engine_cancel_all");
    std::lock_guard lock(engine->live_mutex);
    for (uint64_t id : engine->live) e.cancel(id);
  });
}

ollm_status ollm_engine_open_session(ollm_engine* engine, uint64_t* session) {
  return guarded([&] {
    ollm::Engine& e = engine_of(engine, "ollm_engine_open_session");
    require(session, "ollm_engine_open_session", "session");
    *session = e.open_session();
  });
}

ollm_status ollm_engine_close_session(ollm_engine* engine, uint64_t session) {
  return guarded([&] { engine_of(engine, "ollm_engine_close_session").close_session(session); });
}

ollm_status ollm_engine_reset_session(ollm_engine* engine, uint64_t session) {
  return guarded([&] { engine_of(engine, "ollm_engine_reset_session").reset_session(session); });
}

ollm_status ollm_engine_logits(ollm_engine* engine, const int32_t* ids, size_t n_ids, float** logits,
                               size_t* n_floats) {
  return guarded([&] {
    ollm::Engine& e = engine_of(engine, "ollm_engine_logits");
    if (n_ids > 0) require(ids, "ollm_engine_logits", "ids");
    require(logits, "ollm_engine_logits", "logits");
    require(n_floats, "ollm_engine_logits", "n_floats");
    const std::vector<float> v = e.logits(std::span<const int32_t>(ids, n_ids));
    float* copy = copy_array(v.data(), v.size());
    *logits = copy;
    *n_floats = v.size();
  });
}

ollm_status ollm_engine_embeddings(ollm_engine* engine, const int32_t* ids, size_t n_ids, int32_t pooling,
                                   int normalize, float** embeddings, size_t* n_floats) {
  return guarded([&] {
    ollm::Engine& e = engine_of(engine, "ollm_engine_embeddings");
    if (n_ids > 0) require(ids, "ollm_engine_embeddings", "ids");
    require(embeddings, "ollm_engine_embeddings", "embeddings");
    require(n_floats, "ollm_engine_embeddings", "n_floats");
    if (pooling != OLLM_POOLING_NONE && pooling != OLLM_POOLING_MEAN && pooling != OLLM_POOLING_LAST)
      invalid("[c-api] ollm_engine_embeddings: pooling " + std::to_string(pooling) +
              " is not an ollm_pooling");
    const std::vector<float> v =
        e.embeddings(std::span<const int32_t>(ids, n_ids), static_cast<ollm::Pooling>(pooling), normalize != 0);
    float* copy = copy_array(v.data(), v.size());
    *embeddings = copy;
    *n_floats = v.size();
  });
}

int64_t ollm_engine_kv_free_tokens(const ollm_engine* engine) {
  return engine ? engine->engine->kv_free_tokens() : -1;
}

// ---- Results ----

void ollm_result_destroy(ollm_result* result) { delete result; }

const char* ollm_result_text(const ollm_result* result, size_t* len) {
  if (result == nullptr) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = result->result.text.size();
  return result->result.text.c_str();
}

const int32_t* ollm_result_tokens(const ollm_result* result, size_t* n_tokens) {
  if (n_tokens) *n_tokens = result ? result->result.tokens.size() : 0;
  return result && !result->result.tokens.empty() ? result->result.tokens.data() : nullptr;
}

ollm_finish_reason ollm_result_finish_reason(const ollm_result* result) {
  return result ? static_cast<ollm_finish_reason>(result->result.finish) : OLLM_FINISH_NONE;
}
int64_t ollm_result_prompt_tokens(const ollm_result* result) { return result ? result->result.prompt_tokens : 0; }
int64_t ollm_result_reused_tokens(const ollm_result* result) { return result ? result->result.reused_tokens : 0; }
const char* ollm_result_error(const ollm_result* result) { return result ? result->result.error.c_str() : ""; }

}  // extern "C"
