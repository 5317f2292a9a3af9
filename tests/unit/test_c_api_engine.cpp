// The C ABI over a real (tiny) model: every call family against the C++ API it wraps, the error
// contract (status, message naming the problem, out-parameters untouched), size-prefixed structs
// from older callers, cancellation from another thread, and the versioned function table.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ollm.h"
#include "ollm/engine.hpp"

namespace {

const std::string tiny_gguf = (std::filesystem::path(OLLM_TEST_DATA) / "models" / "llama" / "model.gguf").string();
const std::vector<int32_t> prompt_ids = {501, 500, 505, 194, 87, 12, 300};

ollm_model* load_tiny() {
  ollm_model* model = nullptr;
  REQUIRE_MESSAGE(ollm_model_load(tiny_gguf.c_str(), nullptr, &model) == OLLM_OK, ollm_last_error());
  return model;
}

ollm_engine* make_engine(ollm_model* model) {
  ollm_engine_options eo;
  ollm_engine_options_init(&eo);
  eo.threads = 2;
  eo.kv_type = OLLM_KV_F32;
  ollm_engine* engine = nullptr;
  REQUIRE_MESSAGE(ollm_engine_create(model, &eo, &engine) == OLLM_OK, ollm_last_error());
  return engine;
}

std::vector<int32_t> cpp_greedy(int n) {
  ollm::EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = ollm::DType::f32;
  ollm::Engine engine(ollm::Model::load(tiny_gguf), eo);
  ollm::GenerationRequest r;
  r.prompt_ids = prompt_ids;
  r.max_tokens = n;
  r.stop_at_eos = false;
  return engine.generate(r).tokens;
}

}  // namespace

TEST_CASE("C ABI: model metadata, tokenizer round trip and the library's information") {
  ollm_model* model = load_tiny();
  CHECK(std::string(ollm_model_architecture(model)) == "llama");
  CHECK(ollm_model_vocab_size(model) == 512);
  CHECK(ollm_model_hidden_size(model) == 256);
  CHECK(ollm_model_layer_count(model) > 0);
  CHECK(ollm_model_weight_bytes(model) > 0);
  CHECK(ollm_model_chat_template(model) == nullptr);
  CHECK(std::string(ollm_build_info()).find("\"backends\":[\"cpu\"") != std::string::npos);
  CHECK(std::string(ollm_version()) == "0.1.0");

  ollm_tokenizer* tok = nullptr;
  REQUIRE(ollm_tokenizer_from_model(model, &tok) == OLLM_OK);
  ollm_model_destroy(model);  // the tokenizer keeps what it needs alive
  const std::string text = "Hello world, hello ollm!";
  int32_t* ids = nullptr;
  size_t n = 0;
  REQUIRE(ollm_tokenize(tok, text.data(), text.size(), 0, &ids, &n) == OLLM_OK);
  const auto expected = ollm::Model::load(tiny_gguf)->tokenizer().encode(text, false);
  CHECK(std::vector<int32_t>(ids, ids + n) == expected);
  char* back = nullptr;
  size_t back_len = 0;
  REQUIRE(ollm_detokenize(tok, ids, n, 0, &back, &back_len) == OLLM_OK);
  CHECK(std::string(back, back_len) == text);
  ollm_free(back);
  ollm_free(ids);
  const int32_t bad[] = {1, 99999};
  char* untouched = reinterpret_cast<char*>(0x1);
  CHECK(ollm_detokenize(tok, bad, 2, 0, &untouched, nullptr) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(untouched == reinterpret_cast<char*>(0x1));
  CHECK(std::string(ollm_last_error()).find("ids[1] = 99999") != std::string::npos);
  ollm_tokenizer_destroy(tok);
  ollm_tokenizer_destroy(nullptr);
}

TEST_CASE("C ABI: greedy generation and streaming equal the C++ engine's") {
  ollm_model* model = load_tiny();
  ollm_engine* engine = make_engine(model);
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  go.prompt_ids = prompt_ids.data();
  go.n_prompt_ids = prompt_ids.size();
  go.max_tokens = 12;
  go.stop_at_eos = 0;
  std::string streamed;
  go.on_token = [](void* user, const char* piece, size_t len) {
    CHECK(std::strlen(piece) == len);
    static_cast<std::string*>(user)->append(piece, len);
    return 1;
  };
  go.user_data = &streamed;
  ollm_result* result = nullptr;
  REQUIRE_MESSAGE(ollm_engine_generate(engine, &go, &result) == OLLM_OK, ollm_last_error());
  size_t n = 0;
  const int32_t* tokens = ollm_result_tokens(result, &n);
  CHECK(std::vector<int32_t>(tokens, tokens + n) == cpp_greedy(12));
  size_t len = 0;
  CHECK(std::string(ollm_result_text(result, &len)) == streamed);
  CHECK(ollm_result_finish_reason(result) == OLLM_FINISH_LENGTH);
  CHECK(ollm_result_prompt_tokens(result) == static_cast<int64_t>(prompt_ids.size()));
  ollm_result_destroy(result);

  // Submit / step / take, two requests batched.
  uint64_t a = 0, b = 0;
  REQUIRE(ollm_engine_submit(engine, &go, &a) == OLLM_OK);
  go.on_token = nullptr;
  REQUIRE(ollm_engine_submit(engine, &go, &b) == OLLM_OK);
  int more = 1, steps = 0;
  while (more) {
    REQUIRE(ollm_engine_step(engine, &more) == OLLM_OK);
    ++steps;
  }
  CHECK(steps >= 12);
  ollm_result *ra = nullptr, *rb = nullptr;
  REQUIRE(ollm_engine_take_result(engine, a, &ra) == OLLM_OK);
  REQUIRE(ollm_engine_take_result(engine, b, &rb) == OLLM_OK);
  size_t na = 0, nb = 0;
  const int32_t* ta = ollm_result_tokens(ra, &na);
  const int32_t* tb = ollm_result_tokens(rb, &nb);
  CHECK(std::vector<int32_t>(ta, ta + na) == std::vector<int32_t>(tb, tb + nb));
  ollm_result_destroy(ra);
  ollm_result_destroy(rb);
  ollm_result* none = reinterpret_cast<ollm_result*>(0x1);
  CHECK(ollm_engine_take_result(engine, a, &none) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(none == reinterpret_cast<ollm_result*>(0x1));
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
}

TEST_CASE("C ABI: sampling settings, stop strings, sessions, logits and embeddings") {
  ollm_model* model = load_tiny();
  ollm_engine* engine = make_engine(model);
  ollm_sampler* sampler = nullptr;
  REQUIRE(ollm_sampler_create(&sampler) == OLLM_OK);
  REQUIRE(ollm_sampler_set_temperature(sampler, 0.8f) == OLLM_OK);
  REQUIRE(ollm_sampler_set_top_k(sampler, 40) == OLLM_OK);
  REQUIRE(ollm_sampler_set_seed(sampler, 7) == OLLM_OK);
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  go.prompt_ids = prompt_ids.data();
  go.n_prompt_ids = prompt_ids.size();
  go.max_tokens = 10;
  go.stop_at_eos = 0;
  go.sampler = sampler;
  auto tokens_of = [&](const ollm_generate_options& o) {
    ollm_result* r = nullptr;
    REQUIRE_MESSAGE(ollm_engine_generate(engine, &o, &r) == OLLM_OK, ollm_last_error());
    size_t n = 0;
    const int32_t* t = ollm_result_tokens(r, &n);
    std::vector<int32_t> v(t, t + n);
    ollm_result_destroy(r);
    return v;
  };
  CHECK(tokens_of(go) == tokens_of(go));  // seeded: reproducible
  // A bias of +100 on one token makes every draw that token.
  REQUIRE(ollm_sampler_add_logit_bias(sampler, 42, 100.0f) == OLLM_OK);
  CHECK(tokens_of(go) == std::vector<int32_t>(10, 42));
  REQUIRE(ollm_sampler_clear_logit_bias(sampler) == OLLM_OK);
  REQUIRE(ollm_sampler_set_top_p(sampler, 2.0f) == OLLM_OK);  // checked at submit
  uint64_t id = 77;
  CHECK(ollm_engine_submit(engine, &go, &id) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(id == 77);
  CHECK(std::string(ollm_last_error()).find("top_p") != std::string::npos);
  ollm_sampler_destroy(sampler);
  go.sampler = nullptr;

  // Sessions: the second turn reuses the first turn's cache.
  uint64_t session = 0;
  REQUIRE(ollm_engine_open_session(engine, &session) == OLLM_OK);
  go.session = session;
  go.max_tokens = 4;
  ollm_result* r = nullptr;
  REQUIRE(ollm_engine_generate(engine, &go, &r) == OLLM_OK);
  ollm_result_destroy(r);
  std::vector<int32_t> longer = prompt_ids;
  longer.push_back(3);
  go.prompt_ids = longer.data();
  go.n_prompt_ids = longer.size();
  REQUIRE(ollm_engine_generate(engine, &go, &r) == OLLM_OK);
  CHECK(ollm_result_reused_tokens(r) == static_cast<int64_t>(prompt_ids.size()));
  ollm_result_destroy(r);
  REQUIRE(ollm_engine_reset_session(engine, session) == OLLM_OK);
  REQUIRE(ollm_engine_generate(engine, &go, &r) == OLLM_OK);
  CHECK(ollm_result_reused_tokens(r) == 0);
  ollm_result_destroy(r);
  REQUIRE(ollm_engine_close_session(engine, session) == OLLM_OK);
  CHECK(ollm_engine_close_session(engine, session) == OLLM_ERR_INVALID_ARGUMENT);

  // Logits and embeddings equal the C++ engine's.
  ollm::EngineOptions eo;
  eo.kv_type = ollm::DType::f32;
  ollm::Engine cpp(ollm::Model::load(tiny_gguf), eo);
  float* logits = nullptr;
  size_t n_floats = 0;
  REQUIRE(ollm_engine_logits(engine, prompt_ids.data(), prompt_ids.size(), &logits, &n_floats) == OLLM_OK);
  CHECK(std::vector<float>(logits, logits + n_floats) == cpp.logits(prompt_ids));
  ollm_free(logits);
  float* emb = nullptr;
  REQUIRE(ollm_engine_embeddings(engine, prompt_ids.data(), prompt_ids.size(), OLLM_POOLING_MEAN, 1, &emb,
                                 &n_floats) == OLLM_OK);
  CHECK(n_floats == 256);
  CHECK(std::vector<float>(emb, emb + n_floats) == cpp.embeddings(prompt_ids, ollm::Pooling::mean, true));
  ollm_free(emb);
  CHECK(ollm_engine_embeddings(engine, prompt_ids.data(), prompt_ids.size(), 9, 0, &emb,
                               &n_floats) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(ollm_engine_kv_free_tokens(engine) == 4096);
  ollm_engine_destroy(engine);

  // llama.cpp numerics through the C options equal the C++ engine's; an older caller's struct
  // that ends before `numerics` gets the standard numerics.
  ollm_engine_options co;
  ollm_engine_options_init(&co);
  CHECK(co.numerics == OLLM_NUMERICS_STANDARD);
  co.numerics = OLLM_NUMERICS_LLAMACPP;
  REQUIRE(ollm_engine_create(model, &co, &engine) == OLLM_OK);
  eo.kv_type = ollm::DType::f16;
  eo.numerics = ollm::Numerics::llamacpp;
  ollm::Engine cpp_llamacpp(ollm::Model::load(tiny_gguf), eo);
  REQUIRE(ollm_engine_logits(engine, prompt_ids.data(), prompt_ids.size(), &logits, &n_floats) == OLLM_OK);
  const std::vector<float> c_llamacpp(logits, logits + n_floats);
  ollm_free(logits);
  CHECK(c_llamacpp == cpp_llamacpp.logits(prompt_ids));
  CHECK(c_llamacpp != cpp.logits(prompt_ids));  // the numerics really changed
  ollm_engine_destroy(engine);
  // Exact numerics through the C options equal the C++ engine's.
  co.numerics = OLLM_NUMERICS_EXACT;
  REQUIRE(ollm_engine_create(model, &co, &engine) == OLLM_OK);
  eo.numerics = ollm::Numerics::exact;
  ollm::Engine cpp_exact(ollm::Model::load(tiny_gguf), eo);
  REQUIRE(ollm_engine_logits(engine, prompt_ids.data(), prompt_ids.size(), &logits, &n_floats) == OLLM_OK);
  CHECK(std::vector<float>(logits, logits + n_floats) == cpp_exact.logits(prompt_ids));
  ollm_free(logits);
  ollm_engine_destroy(engine);
  co.numerics = OLLM_NUMERICS_LLAMACPP;
  co.struct_size = offsetof(ollm_engine_options, numerics);
  REQUIRE(ollm_engine_create(model, &co, &engine) == OLLM_OK);
  REQUIRE(ollm_engine_logits(engine, prompt_ids.data(), prompt_ids.size(), &logits, &n_floats) == OLLM_OK);
  eo.numerics = ollm::Numerics::standard;
  ollm::Engine cpp_f16(ollm::Model::load(tiny_gguf), eo);
  CHECK(std::vector<float>(logits, logits + n_floats) == cpp_f16.logits(prompt_ids));
  ollm_free(logits);
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
}

TEST_CASE("C ABI: cancellation from the callback and from another thread") {
  ollm_model* model = load_tiny();
  ollm_engine* engine = make_engine(model);
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  go.prompt_ids = prompt_ids.data();
  go.n_prompt_ids = prompt_ids.size();
  go.max_tokens = 1000;
  go.stop_at_eos = 0;
  int calls = 0;
  go.on_token = [](void* user, const char*, size_t) { return ++*static_cast<int*>(user) < 3 ? 1 : 0; };
  go.user_data = &calls;
  ollm_result* r = nullptr;
  REQUIRE(ollm_engine_generate(engine, &go, &r) == OLLM_OK);
  CHECK(ollm_result_finish_reason(r) == OLLM_FINISH_CANCELLED);
  ollm_result_destroy(r);

  struct Shared {
    std::atomic<int> pieces{0};
    std::atomic<bool> returned{false};
  } shared;
  go.on_token = [](void* user, const char*, size_t) {
    static_cast<Shared*>(user)->pieces++;
    return 1;
  };
  go.user_data = &shared;
  go.max_tokens = 1 << 30;  // only the cancel can end it (before the 4096-token KV budget)
  std::thread canceller([&] {
    // (Never waits forever: if no text ever came, generate returns at the KV limit and the
    // finish-reason check below fails.)
    while (shared.pieces.load() < 5 && !shared.returned.load()) std::this_thread::yield();
    CHECK(ollm_engine_cancel_all(engine) == OLLM_OK);
  });
  const ollm_status status = ollm_engine_generate(engine, &go, &r);
  shared.returned = true;
  canceller.join();
  REQUIRE(status == OLLM_OK);
  CHECK(ollm_result_finish_reason(r) == OLLM_FINISH_CANCELLED);
  size_t n = 0;
  ollm_result_tokens(r, &n);
  CHECK(n < 4000);
  ollm_result_destroy(r);
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
}

TEST_CASE("C ABI: errors name the problem and leave out-parameters alone") {
  ollm_model* model = reinterpret_cast<ollm_model*>(0x1);
  CHECK(ollm_model_load("/nonexistent/m.gguf", nullptr, &model) == OLLM_ERR_IO);
  CHECK(model == reinterpret_cast<ollm_model*>(0x1));
  CHECK(std::string(ollm_last_error()).find("m.gguf") != std::string::npos);
  CHECK(ollm_model_load(nullptr, nullptr, &model) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("path") != std::string::npos);
  ollm_model_options mo;
  ollm_model_options_init(&mo);
  mo.struct_size = 0;
  CHECK(ollm_model_load(tiny_gguf.c_str(), &mo, &model) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("struct_size") != std::string::npos);
  // Progress callback cancels the load.
  ollm_model_options_init(&mo);
  mo.progress = [](void*, float) { return 0; };
  CHECK(ollm_model_load(tiny_gguf.c_str(), &mo, &model) == OLLM_ERR_CANCELLED);
  CHECK(model == reinterpret_cast<ollm_model*>(0x1));
  // An older caller's shorter struct (only struct_size, device, threads) gets defaults for the rest.
  ollm_model_options_init(&mo);
  mo.struct_size = offsetof(ollm_model_options, use_mmap);
  mo.use_mmap = 0;
  mo.progress = [](void*, float) { return 0; };  // beyond the old size: must be ignored
  REQUIRE(ollm_model_load(tiny_gguf.c_str(), &mo, &model) == OLLM_OK);
  CHECK(std::string(ollm_last_error()).empty());
  ollm_engine* engine = make_engine(model);
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  go.prompt = "";
  ollm_result* r = reinterpret_cast<ollm_result*>(0x1);
  CHECK(ollm_engine_generate(engine, &go, &r) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("empty") != std::string::npos);
  CHECK(ollm_engine_generate(nullptr, &go, &r) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(r == reinterpret_cast<ollm_result*>(0x1));
  ollm_chat_template* no_template = reinterpret_cast<ollm_chat_template*>(0x1);
  CHECK(ollm_chat_template_from_model(model, &no_template) == OLLM_ERR_NOT_FOUND);
  CHECK(std::string(ollm_last_error()).find("no chat template") != std::string::npos);
  CHECK(no_template == reinterpret_cast<ollm_chat_template*>(0x1));
  CHECK(ollm_chat_template_parse("{% if %}", &no_template) == OLLM_ERR_INVALID_MODEL_FILE);
  CHECK(std::string(ollm_last_error()).find("line 1") != std::string::npos);
  CHECK(ollm_set_log_callback(nullptr, nullptr, 17) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_status_name(OLLM_ERR_IO)) == "OLLM_ERR_IO");
  CHECK(std::string(ollm_status_name(99)) == "OLLM_ERR_UNKNOWN");
  ollm_engine_options eo;
  ollm_engine_options_init(&eo);
  eo.kv_type = 42;
  ollm_engine* no_engine = nullptr;
  CHECK(ollm_engine_create(model, &eo, &no_engine) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("kv_type 42") != std::string::npos);
  CHECK(no_engine == nullptr);
  ollm_engine_options_init(&eo);
  eo.numerics = 7;
  CHECK(ollm_engine_create(model, &eo, &no_engine) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("numerics 7") != std::string::npos);
  eo.numerics = OLLM_NUMERICS_LLAMACPP;
  eo.kv_type = OLLM_KV_Q8_0;
  CHECK(ollm_engine_create(model, &eo, &no_engine) == OLLM_ERR_UNSUPPORTED);
  CHECK(std::string(ollm_last_error()).find("F16 or F32 KV cache") != std::string::npos);
  CHECK(no_engine == nullptr);
  ollm_engine_destroy(engine);
  ollm_engine_destroy(nullptr);
  ollm_model_destroy(model);
  ollm_model_destroy(nullptr);
  ollm_result_destroy(nullptr);
  ollm_sampler_destroy(nullptr);
  ollm_free(nullptr);
}

TEST_CASE("C ABI: the versioned function table points at the flat functions") {
  const ollm_api* api = ollm_get_api(OLLM_API_VERSION);
  REQUIRE(api != nullptr);
  CHECK(api->version == OLLM_API_VERSION);
  CHECK(api->struct_size == sizeof(ollm_api));
  CHECK((api->model_load == &ollm_model_load));
  CHECK((api->engine_generate == &ollm_engine_generate));
  CHECK((api->model_info_tensor_count == &ollm_model_info_tensor_count));
  // Version 2 appended the thread pool's functions after every version 1 slot.
  CHECK(OLLM_API_VERSION == 2);
  CHECK((api->thread_pool_create == &ollm_thread_pool_create));
  CHECK((api->thread_pool_destroy == &ollm_thread_pool_destroy));
  CHECK((api->thread_pool_size == &ollm_thread_pool_size));
  CHECK(offsetof(ollm_api, thread_pool_create) == offsetof(ollm_api, model_info_tensor_count) + sizeof(void*));
  const ollm_api* v1 = ollm_get_api(1);  // an older caller gets the same table (a prefix of it)
  REQUIRE(v1 != nullptr);
  CHECK(v1->version >= 1);
  CHECK((v1->model_info_tensor_count == &ollm_model_info_tensor_count));
  CHECK(ollm_get_api(0) == nullptr);
  CHECK(ollm_get_api(OLLM_API_VERSION + 1) == nullptr);
  // Every slot is filled.
  const auto* slots = reinterpret_cast<void (*const*)(void)>(reinterpret_cast<const char*>(api) + 8);
  for (size_t i = 0; i < (sizeof(ollm_api) - 8) / sizeof(void*); ++i) CHECK((slots[i] != nullptr));
}

TEST_CASE("C ABI: chat templates render as transformers does") {
  // The Llama 3 style template, minus the date logic; expected text written out by hand from the
  // template's definition (the engine itself is checked against transformers' goldens elsewhere).
  const char* source =
      "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
      "{{ m['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}"
      "<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";
  ollm_chat_template* t = nullptr;
  REQUIRE_MESSAGE(ollm_chat_template_parse(source, &t) == OLLM_OK, ollm_last_error());
  REQUIRE(ollm_chat_template_set_special_token(t, "bos_token", "<|begin_of_text|>") == OLLM_OK);
  ollm_chat_message m[2];
  ollm_chat_message_init(&m[0]);
  ollm_chat_message_init(&m[1]);
  m[0].role = "system";
  m[0].content = "Be brief. ";
  m[1].role = "user";
  m[1].content = "Hi";
  char* text = nullptr;
  REQUIRE(ollm_chat_template_render(t, m, 2, 1, &text) == OLLM_OK);
  const std::string expected =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  CHECK(std::string(text) == expected);
  ollm_free(text);
  REQUIRE(ollm_chat_template_render_json(t, R"([{"role":"system","content":"Be brief. "},{"role":"user","content":"Hi"}])",
                                         nullptr, nullptr, 1, &text) == OLLM_OK);
  CHECK(std::string(text) == expected);
  ollm_free(text);
  char* untouched = reinterpret_cast<char*>(0x1);
  CHECK(ollm_chat_template_render_json(t, "[{", nullptr, nullptr, 1, &untouched) != OLLM_OK);
  CHECK(untouched == reinterpret_cast<char*>(0x1));
  m[1].content = nullptr;
  CHECK(ollm_chat_template_render(t, m, 2, 1, &untouched) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("messages[1]") != std::string::npos);
  ollm_chat_template_destroy(t);
  ollm_chat_template_destroy(nullptr);
}

static_assert(OLLM_FINISH_ERROR == static_cast<int>(ollm::FinishReason::error), "finish reasons mirror the C++ enum");

TEST_CASE("C ABI: prompt_len carries NUL bytes; engine options and checksum policy are range-checked") {
  ollm_model* model = load_tiny();
  ollm_engine* engine = make_engine(model);
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  const char text[] = "a\0b";
  go.prompt = text;
  go.prompt_len = 3;
  go.max_tokens = 1;
  ollm_result* r = nullptr;
  REQUIRE_MESSAGE(ollm_engine_generate(engine, &go, &r) == OLLM_OK, ollm_last_error());
  const auto expected = ollm::Model::load(tiny_gguf)->tokenizer().encode(std::string_view(text, 3), true);
  CHECK(ollm_result_prompt_tokens(r) == static_cast<int64_t>(expected.size()));
  CHECK(expected.size() > ollm::Model::load(tiny_gguf)->tokenizer().encode("a", true).size());
  ollm_result_destroy(r);
  // An older caller's struct ends before prompt_len: the prompt is read up to its NUL.
  go.struct_size = offsetof(ollm_generate_options, prompt_len);
  go.prompt_len = 12345;  // beyond the old size: ignored
  REQUIRE_MESSAGE(ollm_engine_generate(engine, &go, &r) == OLLM_OK, ollm_last_error());
  CHECK(ollm_result_prompt_tokens(r) == 1);
  ollm_result_destroy(r);

  ollm_engine_options eo;
  ollm_engine* no_engine = nullptr;
  // Pairs, not a structured binding: clang 14 cannot capture a binding in CAPTURE's lambda.
  for (const auto& test_case : std::vector<std::pair<void (*)(ollm_engine_options&), const char*>>{
           {[](ollm_engine_options& o) { o.kv_cache_tokens = INT64_MAX; }, "kv_cache_tokens 9223372036854775807"},
           {[](ollm_engine_options& o) { o.max_sequences = 0; }, "max_sequences 0"},
           {[](ollm_engine_options& o) { o.max_batch_tokens = -1; }, "max_batch_tokens -1"},
           {[](ollm_engine_options& o) { o.threads = 5000; }, "threads 5000"},
       }) {
    const char* const needle = test_case.second;
    CAPTURE(needle);
    ollm_engine_options_init(&eo);
    test_case.first(eo);
    CHECK(ollm_engine_create(model, &eo, &no_engine) == OLLM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(ollm_last_error()).find(needle) != std::string::npos);
    CHECK(no_engine == nullptr);
  }

  // A model beside a manifest that does not match: refused by default, loaded with NEVER.
  const std::filesystem::path dir = std::filesystem::path(OLLM_BUILD_DIR) / "c_api_checksums";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string copy = (dir / "model.gguf").string();
  std::filesystem::copy_file(tiny_gguf, copy);
  { std::ofstream(copy + ".sha256") << std::string(64, '0') << "  model.gguf\n"; }
  const std::string cache = (dir / "verified-sha256").string();
  ollm_model_options mo;
  ollm_model_options_init(&mo);
  CHECK(mo.checksum_policy == OLLM_CHECKSUMS_AUTO);
  mo.checksum_cache = cache.c_str();
  ollm_model* checked = nullptr;
  CHECK(ollm_model_load(copy.c_str(), &mo, &checked) == OLLM_ERR_INVALID_MODEL_FILE);
  CHECK(std::string(ollm_last_error()).find("checksum mismatch for") != std::string::npos);
  mo.checksum_policy = OLLM_CHECKSUMS_NEVER;
  REQUIRE(ollm_model_load(copy.c_str(), &mo, &checked) == OLLM_OK);
  ollm_model_destroy(checked);
  mo.verify_checksums = 1;  // the older field: always
  CHECK(ollm_model_load(copy.c_str(), &mo, &checked) == OLLM_ERR_INVALID_MODEL_FILE);
  mo.verify_checksums = 0;
  mo.checksum_policy = 9;
  CHECK(ollm_model_load(copy.c_str(), &mo, &checked) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("checksum_policy 9") != std::string::npos);
  std::filesystem::remove_all(dir);
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
}

namespace {

std::vector<int32_t> c_greedy(ollm_engine* engine, int n) {
  ollm_generate_options go;
  ollm_generate_options_init(&go);
  go.prompt_ids = prompt_ids.data();
  go.n_prompt_ids = prompt_ids.size();
  go.max_tokens = n;
  go.stop_at_eos = 0;
  ollm_result* r = nullptr;
  const ollm_status status = ollm_engine_generate(engine, &go, &r);
  if (status != OLLM_OK) return {};  // the caller's comparison fails (CHECK is not thread-safe)
  size_t count = 0;
  const int32_t* t = ollm_result_tokens(r, &count);
  std::vector<int32_t> tokens(t, t + count);
  ollm_result_destroy(r);
  return tokens;
}

}  // namespace

TEST_CASE("C ABI: engines share a thread pool, which outlives its handle") {
  ollm_model* model = load_tiny();
  const std::vector<int32_t> alone = cpp_greedy(12);
  REQUIRE(alone.size() == 12);

  ollm_thread_pool* pool = nullptr;
  REQUIRE_MESSAGE(ollm_thread_pool_create(2, &pool) == OLLM_OK, ollm_last_error());
  CHECK(ollm_thread_pool_size(pool) == 2);
  CHECK(ollm_thread_pool_size(nullptr) == 0);
  ollm_engine_options eo;
  ollm_engine_options_init(&eo);
  CHECK(eo.thread_pool == nullptr);  // the default: the library's shared pool
  eo.threads = 2;
  eo.kv_type = OLLM_KV_F32;
  eo.thread_pool = pool;
  ollm_engine *a = nullptr, *b = nullptr;
  REQUIRE_MESSAGE(ollm_engine_create(model, &eo, &a) == OLLM_OK, ollm_last_error());
  REQUIRE_MESSAGE(ollm_engine_create(model, &eo, &b) == OLLM_OK, ollm_last_error());
  // The engines keep the pool alive: the handle may go first (ASan sees a use after free if not).
  ollm_thread_pool_destroy(pool);
  ollm_thread_pool_destroy(nullptr);

  // Both engines drive the one pool at the same time and still give the lone engine's tokens.
  std::vector<int32_t> from_a, from_b;
  std::thread ta([&] { from_a = c_greedy(a, 12); });
  std::thread tb([&] { from_b = c_greedy(b, 12); });
  ta.join();
  tb.join();
  CHECK(from_a == alone);
  CHECK(from_b == alone);
  ollm_engine_destroy(a);
  ollm_engine_destroy(b);

  // A one-thread pool gives the same tokens too (threads is capped at the pool's size).
  ollm_thread_pool* one = nullptr;
  REQUIRE(ollm_thread_pool_create(1, &one) == OLLM_OK);
  eo.thread_pool = one;
  ollm_engine* c = nullptr;
  REQUIRE_MESSAGE(ollm_engine_create(model, &eo, &c) == OLLM_OK, ollm_last_error());
  CHECK(c_greedy(c, 12) == alone);
  ollm_engine_destroy(c);
  ollm_thread_pool_destroy(one);
  ollm_model_destroy(model);
}

TEST_CASE("C ABI: thread pool sizes are range-checked; an older options struct ignores thread_pool") {
  for (const int32_t bad : {0, -1, 256}) {
    CAPTURE(bad);
    ollm_thread_pool* untouched = reinterpret_cast<ollm_thread_pool*>(0x1);
    CHECK(ollm_thread_pool_create(bad, &untouched) == OLLM_ERR_INVALID_ARGUMENT);
    const std::string message = ollm_last_error();
    CHECK(message.find("ollm_thread_pool_create: threads " + std::to_string(bad)) != std::string::npos);
    CHECK(message.find("1..255") != std::string::npos);
    CHECK(untouched == reinterpret_cast<ollm_thread_pool*>(0x1));
  }
  CHECK(ollm_thread_pool_create(2, nullptr) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ollm_last_error()).find("out must not be NULL") != std::string::npos);

  // A caller compiled before thread_pool existed passes a struct that ends before it: whatever
  // lies beyond struct_size is not read (a wild pointer here), the engine uses the shared pool.
  ollm_model* model = load_tiny();
  ollm_engine_options eo;
  ollm_engine_options_init(&eo);
  eo.threads = 2;
  eo.kv_type = OLLM_KV_F32;
  eo.thread_pool = reinterpret_cast<ollm_thread_pool*>(0x1);
  eo.struct_size = offsetof(ollm_engine_options, thread_pool);
  ollm_engine* engine = nullptr;
  REQUIRE_MESSAGE(ollm_engine_create(model, &eo, &engine) == OLLM_OK, ollm_last_error());
  CHECK(c_greedy(engine, 12) == cpp_greedy(12));
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
}
