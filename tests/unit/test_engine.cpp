// The engine on a tiny real model (tests/data/models/llama, GGUF): batching must not change
// results, requests finish for the right reasons, sessions reuse their KV cache, bad input and
// an exhausted context are clear errors.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ollm/engine.hpp"
#include "ollm/error.hpp"
#include "ollm/quantize.hpp"
#include "ollm/thread_pool.hpp"

namespace fs = std::filesystem;
using namespace ollm;

namespace {

std::shared_ptr<const Model> tiny_model() {
  static auto model = Model::load(fs::path(OLLM_TEST_DATA) / "models" / "llama" / "model.gguf");
  return model;
}

std::vector<int32_t> prompt_of(int i) {
  std::vector<int32_t> ids;
  for (int j = 0; j < 3 + 5 * i; ++j) ids.push_back((37 * i + 11 * j + 5) % 500);
  return ids;
}

GenerationRequest greedy(std::vector<int32_t> ids, int n) {
  GenerationRequest r;
  r.prompt_ids = std::move(ids);
  r.max_tokens = n;
  r.stop_at_eos = false;
  return r;
}

}  // namespace

TEST_CASE("8 sequences batched together give the same greedy tokens as each alone") {
  EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = DType::f32;
  eo.kv_cache_tokens = 1024;
  std::vector<std::vector<int32_t>> alone;
  {
    Engine engine(tiny_model(), eo);
    for (int i = 0; i < 8; ++i) alone.push_back(engine.generate(greedy(prompt_of(i), 12)).tokens);
  }
  Engine engine(tiny_model(), eo);
  std::vector<RequestId> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(engine.submit(greedy(prompt_of(i), 12)));
  engine.run_until_done();
  for (int i = 0; i < 8; ++i) {
    CAPTURE(i);
    const auto r = engine.take_result(ids[static_cast<size_t>(i)]);
    CHECK(r.finish == FinishReason::length);
    CHECK(r.tokens == alone[static_cast<size_t>(i)]);
  }
  CHECK(engine.kv_free_tokens() == 1024);  // every block came back
}

TEST_CASE("two threads with their own engines on one shared model agree with one thread") {
  EngineOptions eo;
  eo.threads = 1;
  eo.kv_type = DType::f32;
  Engine reference(tiny_model(), eo);
  const auto a = reference.generate(greedy(prompt_of(1), 10)).tokens;
  const auto b = reference.generate(greedy(prompt_of(2), 10)).tokens;
  std::vector<int32_t> ta, tb;
  std::thread t1([&] {
    Engine e(tiny_model(), eo);
    for (int k = 0; k < 3; ++k) ta = e.generate(greedy(prompt_of(1), 10)).tokens;
  });
  std::thread t2([&] {
    Engine e(tiny_model(), eo);
    for (int k = 0; k < 3; ++k) tb = e.generate(greedy(prompt_of(2), 10)).tokens;
  });
  t1.join();
  t2.join();
  CHECK(ta == a);
  CHECK(tb == b);
}

TEST_CASE("two engines on one thread pool, driven from two threads at once, agree with a lone engine") {
  EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = DType::f32;
  std::vector<std::vector<int32_t>> alone;
  {
    Engine reference(tiny_model(), eo);  // the library's shared pool
    for (int i = 0; i < 4; ++i) alone.push_back(reference.generate(greedy(prompt_of(i), 10)).tokens);
  }
  auto pool = std::make_shared<ThreadPool>(2);
  eo.thread_pool = pool;
  const long unused = pool.use_count();  // this test's references
  std::vector<std::vector<int32_t>> got(4);
  {
    Engine a(tiny_model(), eo);
    Engine b(tiny_model(), eo);
    CHECK(pool.use_count() > unused);  // the engines hold the pool
    // Each thread runs its engine's batch of two requests, three times over, so the two engines'
    // parallel regions meet on the pool many times.
    auto drive = [&](Engine& e, int first) {
      for (int k = 0; k < 3; ++k) {
        const RequestId x = e.submit(greedy(prompt_of(first), 10));
        const RequestId y = e.submit(greedy(prompt_of(first + 1), 10));
        e.run_until_done();
        got[first] = e.take_result(x).tokens;
        got[first + 1] = e.take_result(y).tokens;
      }
    };
    std::thread t1([&] { drive(a, 0); });
    std::thread t2([&] { drive(b, 2); });
    t1.join();
    t2.join();
  }
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(got[i] == alone[i]);
  }
  CHECK(pool.use_count() == unused);  // the engines let go of it

  // An engine without a pool of its own runs on the library's shared one (what the public ops
  // use), unless it asks for more threads than that pool has.
  const auto shared = ThreadPool::shared();
  CHECK(shared.get() == ThreadPool::shared().get());
  const long before = shared.use_count();
  {
    Engine by_default(tiny_model(), {});
    CHECK(shared.use_count() > before);
  }
  CHECK(shared.use_count() == before);
  EngineOptions more;
  more.threads = shared->size() + 1;
  {
    Engine own(tiny_model(), more);
    CHECK(shared.use_count() == before);
  }
  // A pool's size is range-checked.
  CHECK_THROWS_WITH_AS(ThreadPool(0), doctest::Contains("1..255"), Error);
  CHECK_THROWS_WITH_AS(ThreadPool(256), doctest::Contains("1..255"), Error);
}

TEST_CASE("cancel from another thread and from the callback end a request cleanly") {
  Engine engine(tiny_model(), EngineOptions{});
  const RequestId id = engine.submit(greedy(prompt_of(3), 150));
  const RequestId other = engine.submit(greedy(prompt_of(4), 5));
  std::thread canceller([&] { engine.cancel(id); });
  canceller.join();
  engine.run_until_done();
  CHECK(engine.take_result(id).finish == FinishReason::cancelled);
  CHECK(engine.take_result(other).finish == FinishReason::length);

  int pieces = 0;
  auto r = engine.generate(greedy(prompt_of(2), 50), [&](std::string_view) { return ++pieces < 3; });
  CHECK(r.finish == FinishReason::cancelled);
  CHECK(r.tokens.size() < 50);
}

TEST_CASE("a session reuses its cached prefix and gives the same tokens as a fresh sequence") {
  EngineOptions eo;
  eo.kv_type = DType::f32;
  Engine engine(tiny_model(), eo);
  const SessionId s = engine.open_session();
  auto first = greedy(prompt_of(2), 6);
  first.session = s;
  const auto r1 = engine.generate(first);
  // The next turn: the whole history plus more tokens.
  std::vector<int32_t> turn2 = prompt_of(2);
  turn2.insert(turn2.end(), r1.tokens.begin(), r1.tokens.end());
  for (int32_t t : {7, 8, 9}) turn2.push_back(t);
  auto second = greedy(turn2, 6);
  second.session = s;
  const auto r2 = engine.generate(second);
  CHECK(r2.reused_tokens >= static_cast<int64_t>(prompt_of(2).size()));
  const auto fresh = engine.generate(greedy(turn2, 6));
  CHECK(fresh.reused_tokens == 0);
  CHECK(r2.tokens == fresh.tokens);
  engine.close_session(s);
  CHECK_THROWS_AS(engine.close_session(s), Error);
}

TEST_CASE("bad requests are refused with what was wrong; a full context ends the request, not the process") {
  EngineOptions eo;
  eo.kv_cache_tokens = 32;
  eo.kv_block_tokens = 16;
  Engine engine(tiny_model(), eo);
  CHECK_THROWS_WITH_AS(engine.submit(greedy({}, 4)), doctest::Contains("empty"), Error);
  CHECK_THROWS_WITH_AS(engine.submit(greedy({1, 100000}, 4)), doctest::Contains("100000"), Error);
  CHECK_THROWS_WITH_AS(engine.submit(greedy(std::vector<int32_t>(40, 1), 4)), doctest::Contains("context"), Error);
  GenerationRequest bad = greedy({1, 2}, 4);
  bad.sampling.top_p = 2.0f;
  CHECK_THROWS_WITH_AS(engine.submit(bad), doctest::Contains("top_p"), Error);
  const auto r = engine.generate(greedy(std::vector<int32_t>(20, 3), 100));
  CHECK(r.finish == FinishReason::context_full);
  // 20 prompt + 12 generated tokens fill the 32 cached positions; the 32nd position's logits
  // still give a 13th token, and the next step has no room.
  CHECK(r.tokens.size() == 13);
  CHECK(r.error.find("32") != std::string::npos);
  CHECK(engine.kv_free_tokens() == 32);
  CHECK_THROWS_AS(engine.take_result(12345), Error);
}

TEST_CASE("max_tokens 0 finishes at once; seeded sampling is reproducible") {
  Engine engine(tiny_model(), EngineOptions{});
  CHECK(engine.generate(greedy({1, 2, 3}, 0)).tokens.empty());
  GenerationRequest r = greedy(prompt_of(1), 10);
  r.sampling.temperature = 0.9f;
  r.sampling.top_k = 40;
  r.sampling.top_p = 0.95f;
  r.sampling.seed = 7;
  const auto a = engine.generate(r).tokens;
  const auto b = engine.generate(r).tokens;
  CHECK(a == b);
  r.sampling.seed = 8;
  bool any_different = false;
  for (int k = 0; k < 5 && !any_different; ++k) {
    r.sampling.seed = 100 + static_cast<uint64_t>(k);
    any_different = engine.generate(r).tokens != a;
  }
  CHECK(any_different);
}

TEST_CASE("a Q8_0 KV cache gives logits close to the F32 cache's and the same greedy start") {
  EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = DType::f32;
  const std::vector<int32_t> ids = prompt_of(6);  // 33 tokens: three KV blocks
  const std::vector<float> exact = Engine(tiny_model(), eo).logits(ids);
  eo.kv_type = DType::q8_0;
  Engine q8(tiny_model(), eo);
  const std::vector<float> approx = q8.logits(ids);
  REQUIRE(approx.size() == exact.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    REQUIRE(std::isfinite(approx[i]));
    diff += (approx[i] - exact[i]) * double(approx[i] - exact[i]);
    norm += double(exact[i]) * exact[i];
  }
  const double normalized = std::sqrt(diff / norm);
  MESSAGE("Q8_0 KV normalized logit error: " << normalized);
  CHECK(normalized > 0.0);   // the cache really is quantized
  CHECK(normalized < 0.02);  // measured 0.0093 (2026-11-22)
  CHECK(q8.generate(greedy(ids, 4)).finish == FinishReason::length);
}

TEST_CASE("batching does not change greedy tokens on quantized weights either") {
  // Batched rows reach the prefill GEMM where a sequence alone takes the decode path: both must
  // compute the same values, or tokens drift with the batch's composition.
  for (DType type : {DType::q8_0, DType::q4_0, DType::q4_k, DType::q6_k}) {
    CAPTURE(dtype_name(type));
    const fs::path out = fs::path(OLLM_BUILD_DIR) / ("tiny-llama-batch-" + dtype_name(type) + ".gguf");
    QuantizeOptions q;
    q.type = type;
    quantize_model(fs::path(OLLM_TEST_DATA) / "models" / "llama" / "model.gguf", out, q);
    auto model = Model::load(out);
    EngineOptions eo;
    eo.threads = 2;
    eo.kv_type = DType::f32;
    std::vector<std::vector<int32_t>> alone;
    {
      Engine engine(model, eo);
      for (int i = 0; i < 8; ++i) alone.push_back(engine.generate(greedy(prompt_of(i), 12)).tokens);
    }
    Engine engine(model, eo);
    std::vector<RequestId> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(engine.submit(greedy(prompt_of(i), 12)));
    engine.run_until_done();
    for (int i = 0; i < 8; ++i) {
      CAPTURE(i);
      CHECK(engine.take_result(ids[static_cast<size_t>(i)]).tokens == alone[static_cast<size_t>(i)]);
    }
  }
}

// A prompt of 300 tokens in one step runs the MLP in row chunks (DecoderRunner::mlp_chunk_rows,
// 128) and attends over the keys of its own step; the same prompt fed 40 tokens per step runs
// unchunked MLPs over a growing cache. Every row is computed the same way either way.
TEST_CASE("a long prompt in one step gives the logits of the same prompt fed in small steps") {
  std::vector<int32_t> ids;
  for (int j = 0; j < 300; ++j) ids.push_back((13 * j + 7) % 500);
  EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = DType::f32;
  eo.max_batch_tokens = 512;
  const std::vector<float> one_step = Engine(tiny_model(), eo).logits(ids);
  eo.max_batch_tokens = 40;
  const std::vector<float> small_steps = Engine(tiny_model(), eo).logits(ids);
  REQUIRE(one_step.size() == small_steps.size());
  REQUIRE(one_step.size() == 300u * 512u);
  double worst = 0;
  for (size_t i = 0; i < one_step.size(); ++i) worst = std::max(worst, std::abs(double(one_step[i]) - small_steps[i]));
  MESSAGE("largest logit difference, one step vs 40-token steps: " << worst);
  CHECK(worst <= 1e-4);
}

TEST_CASE("every engine option out of range is refused, naming the option, its value and the range") {
  struct Case {
    const char* name;
    std::function<void(EngineOptions&)> set;
    const char* value;
  };
  const std::vector<Case> cases = {
      {"threads", [](EngineOptions& o) { o.threads = -1; }, "-1"},
      {"threads", [](EngineOptions& o) { o.threads = 100000; }, "100000"},
      {"kv_cache_tokens", [](EngineOptions& o) { o.kv_cache_tokens = -5; }, "-5"},
      {"kv_cache_tokens", [](EngineOptions& o) { o.kv_cache_tokens = INT64_MAX - 3; }, "9223372036854775804"},
      {"kv_cache_bytes", [](EngineOptions& o) { o.kv_cache_tokens = 0; }, "0"},
      {"kv_type", [](EngineOptions& o) { o.kv_type = DType::q4_0; }, "Q4_0"},
      {"kv_type", [](EngineOptions& o) { o.kv_type = static_cast<DType>(12345); }, "12345"},
      // 2^58 tokens x 2 layers x 512 bytes wrapped the block size to 0 before the check.
      {"kv_block_tokens", [](EngineOptions& o) { o.kv_block_tokens = int64_t{1} << 58; }, "288230376151711744"},
      {"kv_block_tokens", [](EngineOptions& o) { o.kv_block_tokens = 0; }, "0"},
      {"kv_block_tokens", [](EngineOptions& o) { o.kv_block_tokens = -16; }, "-16"},
      {"max_sequences", [](EngineOptions& o) { o.max_sequences = 0; }, "0"},
      {"max_sequences", [](EngineOptions& o) { o.max_sequences = 1 << 30; }, "1073741824"},
      {"max_batch_tokens", [](EngineOptions& o) { o.max_batch_tokens = 0; }, "0"},
      {"max_batch_tokens", [](EngineOptions& o) { o.max_batch_tokens = INT64_MAX; }, "9223372036854775807"},
      {"numerics", [](EngineOptions& o) { o.numerics = static_cast<Numerics>(77); }, "77"},
  };
  for (const Case& c : cases) {
    EngineOptions o;
    c.set(o);
    CAPTURE(c.name);
    CAPTURE(c.value);
    try {
      Engine engine(tiny_model(), o);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      const std::string what = e.what();
      CHECK(what.find(c.name) != std::string::npos);
      CHECK(what.find(c.value) != std::string::npos);
    }
  }
  // The byte budget alone plans as many blocks as fit: 1 MiB / (16 tokens x 2 layers x 2 x 256 bytes).
  EngineOptions bytes_only;
  bytes_only.kv_cache_tokens = 0;
  bytes_only.kv_cache_bytes = 1 << 20;
  bytes_only.kv_type = DType::f32;  // 2 KV heads x 64 x 4 bytes = 512 bytes per K (and V) row
  CHECK(Engine(tiny_model(), bytes_only).kv_free_tokens() == (1 << 20) / (2 * 2 * 512));
  // The largest block size still plans (one block of 65536 tokens).
  EngineOptions big_block;
  big_block.kv_block_tokens = 65536;
  big_block.kv_cache_tokens = 1;
  CHECK(Engine(tiny_model(), big_block).kv_free_tokens() == 65536);
}

TEST_CASE("every request and sampling setting out of range is refused, naming it") {
  Engine engine(tiny_model(), EngineOptions{});
  const float nan = std::nanf("");
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<const char*, std::function<void(GenerationRequest&)>>> cases = {
      {"max_tokens -1", [](GenerationRequest& r) { r.max_tokens = -1; }},
      {"stop string 1 is empty", [](GenerationRequest& r) { r.stop = {"x", ""}; }},
      {"temperature nan", [&](GenerationRequest& r) { r.sampling.temperature = nan; }},
      {"temperature -1", [](GenerationRequest& r) { r.sampling.temperature = -1; }},
      {"temperature inf", [&](GenerationRequest& r) { r.sampling.temperature = inf; }},
      {"top_k -3", [](GenerationRequest& r) { r.sampling.top_k = -3; }},
      {"top_p nan", [&](GenerationRequest& r) { r.sampling.top_p = nan; }},
      {"top_p 1.5", [](GenerationRequest& r) { r.sampling.top_p = 1.5f; }},
      {"top_p -0.5", [](GenerationRequest& r) { r.sampling.top_p = -0.5f; }},
      {"min_p 2", [](GenerationRequest& r) { r.sampling.min_p = 2; }},
      {"typical_p 0", [](GenerationRequest& r) { r.sampling.typical_p = 0; }},
      {"repetition_penalty 0", [](GenerationRequest& r) { r.sampling.repetition_penalty = 0; }},
      {"frequency_penalty inf", [&](GenerationRequest& r) { r.sampling.frequency_penalty = inf; }},
      {"presence_penalty nan", [&](GenerationRequest& r) { r.sampling.presence_penalty = nan; }},
      {"penalty_window -2", [](GenerationRequest& r) { r.sampling.penalty_window = -2; }},
      {"logit_bias token 512", [](GenerationRequest& r) { r.sampling.logit_bias = {{512, 1.0f}}; }},
      {"logit_bias token -1", [](GenerationRequest& r) { r.sampling.logit_bias = {{-1, 1.0f}}; }},
      {"logit_bias inf for token 3", [&](GenerationRequest& r) { r.sampling.logit_bias = {{3, inf}}; }},
      {"session 99 does not exist", [](GenerationRequest& r) { r.session = 99; }},
  };
  for (const auto& test_case : cases) {
    // A named copy, not a structured binding: clang (before 16) cannot capture a binding in the
    // lambda CAPTURE expands to.
    const char* const needle = test_case.first;
    CAPTURE(needle);
    GenerationRequest r = greedy({1, 2, 3}, 4);
    test_case.second(r);
    CHECK_THROWS_WITH_AS(engine.submit(r), doctest::Contains(needle), Error);
  }
  // -inf bans a token: a legal bias.
  GenerationRequest ban = greedy({1, 2, 3}, 4);
  const int32_t first = engine.generate(ban).tokens.at(0);
  ban.sampling.logit_bias = {{first, -inf}};
  CHECK(engine.generate(ban).tokens.at(0) != first);
  CHECK(engine.kv_free_tokens() == 4096);  // nothing refused held blocks
}

TEST_CASE("an empty prompt and a prompt text of zero tokens are told apart") {
  Engine engine(tiny_model(), EngineOptions{});
  GenerationRequest empty;
  CHECK_THROWS_WITH_AS(engine.submit(empty), doctest::Contains("the prompt is empty"), Error);
  // A tokenizer whose pre-tokenizer splits on whitespace gives no token for "   ".
  const fs::path dir = fs::path(OLLM_BUILD_DIR) / "engine_zero_token_prompt";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path hf = fs::path(OLLM_TEST_DATA) / "models" / "llama" / "hf";
  for (const char* f : {"config.json", "model.safetensors", "tokenizer_config.json"}) fs::copy_file(hf / f, dir / f);
  {
    std::ifstream in(hf / "tokenizer.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "\"pre_tokenizer\":";
    const size_t at = json.find(from);
    REQUIRE(at != std::string::npos);
    // Replace the pre-tokenizer object (balanced braces) by Whitespace.
    size_t start = json.find('{', at), depth = 0, end = start;
    for (; end < json.size(); ++end) {
      if (json[end] == '{') ++depth;
      if (json[end] == '}' && --depth == 0) break;
    }
    json.replace(start, end + 1 - start, R"({"type": "Whitespace"})");
    std::ofstream(dir / "tokenizer.json") << json;
  }
  Engine spaces(Model::load(dir), EngineOptions{});
  GenerationRequest blank;
  blank.prompt = "   ";
  blank.add_special_tokens = false;
  CHECK_THROWS_WITH_AS(spaces.submit(blank), doctest::Contains("the prompt text (3 bytes) tokenizes to zero tokens"),
                       Error);
  CHECK_THROWS_WITH_AS(spaces.submit(blank), doctest::Contains("add_special_tokens is off"), Error);
  blank.prompt = "";
  CHECK_THROWS_WITH_AS(spaces.submit(blank), doctest::Contains("the prompt is empty"), Error);
  fs::remove_all(dir);
}

// A stream callback that throws ends its own request (FinishReason::error, its message kept);
// the other sequences of the same batch get exactly the tokens and text of a run without it.
// Before the fix the exception left the later sequences without their sampled token, and the next
// step gathered row first_row - 1: another sequence's hidden state, or memory before the buffer.
TEST_CASE("a throwing stream callback fails only its own request, at any position of the batch") {
  EngineOptions eo;
  eo.threads = 2;
  eo.kv_type = DType::f32;
  eo.kv_cache_tokens = 1024;
  constexpr int n = 5;
  for (int thrower : {0, 2, n - 1}) {
    CAPTURE(thrower);
    std::vector<GenerationResult> reference(n);
    {
      Engine engine(tiny_model(), eo);
      std::vector<RequestId> ids(n);
      for (int i = 0; i < n; ++i)
        if (i != thrower) ids[static_cast<size_t>(i)] = engine.submit(greedy(prompt_of(i), 12));
      engine.run_until_done();
      for (int i = 0; i < n; ++i)
        if (i != thrower) reference[static_cast<size_t>(i)] = engine.take_result(ids[static_cast<size_t>(i)]);
    }
    Engine engine(tiny_model(), eo);
    std::vector<RequestId> ids(n);
    std::vector<std::string> streamed(n);
    int calls = 0;
    for (int i = 0; i < n; ++i) {
      StreamCallback cb = [&, i](std::string_view piece) {
        if (i == thrower && ++calls == 1) throw std::runtime_error("boom from the callback");
        streamed[static_cast<size_t>(i)].append(piece);
        return true;
      };
      ids[static_cast<size_t>(i)] = engine.submit(greedy(prompt_of(i), 12), cb);
    }
    REQUIRE_NOTHROW(engine.run_until_done());
    for (int i = 0; i < n; ++i) {
      CAPTURE(i);
      const GenerationResult r = engine.take_result(ids[static_cast<size_t>(i)]);
      if (i == thrower) {
        CHECK(r.finish == FinishReason::error);
        CHECK(r.error.find("boom from the callback") != std::string::npos);
        CHECK(r.tokens.size() < 12);
        CHECK(calls == 1);  // never called again after it threw
      } else {
        const GenerationResult& ref = reference[static_cast<size_t>(i)];
        CHECK(r.finish == FinishReason::length);
        CHECK(r.tokens == ref.tokens);
        CHECK(r.text == ref.text);
        CHECK(streamed[static_cast<size_t>(i)] == ref.text);
      }
    }
    CHECK(engine.kv_free_tokens() == 1024);
  }
}

TEST_CASE("a model without a tokenizer loads and computes from token ids; text use names the missing file") {
  const fs::path dir = fs::path(OLLM_BUILD_DIR) / "engine_no_tokenizer";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path hf = fs::path(OLLM_TEST_DATA) / "models" / "llama" / "hf";
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(hf / f, dir / f);
  std::shared_ptr<const Model> bare;
  REQUIRE_NOTHROW(bare = Model::load(dir));
  CHECK_FALSE(bare->has_tokenizer());
  CHECK_THROWS_WITH_AS(bare->tokenizer(), doctest::Contains("tokenizer.json is missing"), Error);
  try {
    bare->tokenizer();
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::not_found);
    CHECK(std::string(e.what()).find((dir / "tokenizer.json").string()) != std::string::npos);
  }
  EngineOptions eo;
  eo.kv_type = DType::f32;
  Engine engine(bare, eo);
  const std::vector<int32_t> ids = prompt_of(2);
  const std::vector<float> got = engine.logits(ids);
  const std::vector<float> want = Engine(Model::load(hf), eo).logits(ids);
  CHECK(got == want);  // the same weights, the same computation
  CHECK(engine.embeddings(ids).size() == 256u);
  GenerationRequest text;
  text.prompt = "hello";
  CHECK_THROWS_WITH_AS(engine.submit(text), doctest::Contains("tokenizer.json"), Error);
  CHECK(Model::load(hf)->has_tokenizer());
  fs::remove_all(dir);
}
