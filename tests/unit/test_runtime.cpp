// Runtime pieces without a model: sampler, stop strings, KV cache planning and block accounting.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "backend/cpu_backend.hpp"
#include "runtime/kv_cache.hpp"
#include "runtime/sampler.hpp"
#include "runtime/stop_matcher.hpp"

using namespace ollm;
using namespace ollm::runtime;

TEST_CASE("greedy sampling is the argmax after bias and penalties; NaN never wins") {
  std::vector<float> logits = {1.0f, 3.0f, NAN, 2.0f};
  Sampler greedy(SamplingParams{}, 4);
  CHECK(greedy.sample(logits, {}) == 1);

  SamplingParams biased;
  biased.logit_bias = {{3, 5.0f}};
  std::vector<float> l2 = {1.0f, 3.0f, NAN, 2.0f};
  CHECK(Sampler(biased, 4).sample(l2, {}) == 3);

  // HF repetition penalty divides a positive logit: 3 / 4 = 0.75 < 2, so token 3 wins.
  SamplingParams rep;
  rep.repetition_penalty = 4.0f;
  std::vector<float> l3 = {1.0f, 3.0f, 0.0f, 2.0f};
  const std::vector<int32_t> history = {1, 1, 1};
  CHECK(Sampler(rep, 4).sample(l3, history) == 3);
  CHECK(l3[1] == doctest::Approx(0.75f));

  // Frequency penalty scales with the count, presence once.
  SamplingParams freq;
  freq.frequency_penalty = 0.5f;
  freq.presence_penalty = 0.25f;
  std::vector<float> l4 = {1.0f, 3.0f, 0.0f, 2.0f};
  Sampler(freq, 4).sample(l4, history);
  CHECK(l4[1] == doctest::Approx(3.0f - 1.5f - 0.25f));
  CHECK(l4[3] == 2.0f);

  std::vector<float> all_nan = {NAN, NAN};
  CHECK(argmax(all_nan) == 0);
  std::vector<float> ties = {2.0f, 5.0f, 5.0f};
  CHECK(argmax(ties) == 1);
}

TEST_CASE("the penalty window only looks at the last N tokens") {
  SamplingParams p;
  p.presence_penalty = 10.0f;
  p.penalty_window = 2;
  std::vector<float> l = {5.0f, 4.0f, 0.0f};
  const std::vector<int32_t> history = {0, 2, 2};  // token 0 is outside the window
  CHECK(Sampler(p, 3).sample(l, history) == 0);
  CHECK(l[2] == -10.0f);
}

TEST_CASE("seeded sampling is reproducible and follows the distribution") {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  const std::vector<float> base = {0.0f, std::log(3.0f), -INFINITY};  // p = 1/4, 3/4, 0
  std::map<int32_t, int> counts;
  Sampler a(p, 3), b(p, 3);
  for (int i = 0; i < 4000; ++i) {
    auto la = base, lb = base;
    const int32_t ta = a.sample(la, {});
    REQUIRE(ta == b.sample(lb, {}));
    ++counts[ta];
  }
  CHECK(counts[2] == 0);
  CHECK(counts[1] / 4000.0 == doctest::Approx(0.75).epsilon(0.05));
}

TEST_CASE("top-k, top-p and min-p filters keep exactly the tokens they should") {
  const std::vector<float> base = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  auto draws = [&](SamplingParams p) {
    p.temperature = 1.0f;
    std::map<int32_t, int> seen;
    for (uint64_t seed = 0; seed < 400; ++seed) {
      p.seed = seed;
      auto l = base;
      ++seen[Sampler(p, 4).sample(l, {})];
    }
    return seen;
  };
  SamplingParams k;
  k.top_k = 2;
  auto s = draws(k);
  CHECK(s.count(2) == 0);
  CHECK(s.count(3) == 0);
  CHECK(s.count(1) == 1);
  SamplingParams tp;
  tp.top_p = 0.75f;  // 0.5 is not enough, 0.5 + 0.3 is
  s = draws(tp);
  CHECK(s.count(2) == 0);
  CHECK(s.count(0) == 1);
  SamplingParams mp;
  mp.min_p = 0.25f;  // threshold 0.125: keeps 0.5, 0.3, 0.15
  s = draws(mp);
  CHECK(s.count(3) == 0);
  CHECK(s.count(2) == 1);
}

TEST_CASE("sampling settings out of range are refused with the setting's name") {
  SamplingParams p;
  p.top_p = 0.0f;
  CHECK_THROWS_WITH_AS(Sampler(p, 10), doctest::Contains("top_p"), Error);
  p = {};
  p.temperature = -1.0f;
  CHECK_THROWS_WITH_AS(Sampler(p, 10), doctest::Contains("temperature"), Error);
  p = {};
  p.logit_bias = {{10, 1.0f}};
  CHECK_THROWS_WITH_AS(Sampler(p, 10), doctest::Contains("logit_bias token 10"), Error);
}

TEST_CASE("stop strings are found across piece boundaries and never leak") {
  StopMatcher m({"</end>", "STOP"});
  std::string out;
  out += m.push("Hello </");
  CHECK(out == "Hello ");  // "</" might start "</end>"
  out += m.push("en");
  CHECK(out == "Hello ");
  out += m.push("d> and more");
  CHECK(m.matched());
  CHECK(out == "Hello ");
  CHECK(m.push("ignored").empty());

  StopMatcher n({"STOP"});
  std::string o = n.push("ST");
  o += n.push("ART");  // not a stop after all: released
  CHECK(o == "START");
  o += n.push("S");
  o += n.flush();
  CHECK(o == "STARTS");
  CHECK_FALSE(n.matched());
}

TEST_CASE("KV cache plans from tokens or bytes, and refuses a budget below one block") {
  const KvLayout l = plan_kv_cache(2, 1, 64, 64, DType::f16, 16, 100, 0);
  CHECK(l.n_blocks == 7);  // 100 tokens → 7 blocks of 16
  CHECK(l.k_token_bytes() == 128);
  CHECK(l.total_bytes() == 2u * 7u * 16u * 256u);
  const KvLayout b = plan_kv_cache(2, 1, 64, 64, DType::f16, 16, 100, 3 * 2 * 16 * 256);
  CHECK(b.n_blocks == 3);
  CHECK_THROWS_AS(plan_kv_cache(2, 1, 64, 64, DType::f16, 16, 100, 10), Error);
  CHECK_THROWS_AS(plan_kv_cache(2, 1, 64, 64, DType::q4_0, 16, 100, 0), Error);
  // Q8_0: 34 bytes per 32 values; refused when a head's row would split a block.
  CHECK(plan_kv_cache(2, 1, 64, 64, DType::q8_0, 16, 100, 0).k_token_bytes() == 68);
  CHECK_THROWS_WITH_AS(plan_kv_cache(2, 1, 80, 80, DType::q8_0, 16, 100, 0), doctest::Contains("multiples of 32"), Error);

  KvBlockAllocator cache(l);
  KvSequence a, c;
  CHECK(reserve_tokens(cache, a, 40));  // 3 blocks
  CHECK(a.blocks.size() == 3);
  CHECK(cache.free_blocks() == 4);
  CHECK_FALSE(reserve_tokens(cache, c, 80));  // needs 5: refused, nothing taken
  CHECK(c.blocks.empty());
  CHECK(cache.free_blocks() == 4);
  release(cache, a);
  CHECK(cache.free_blocks() == 7);
  CHECK(reserve_tokens(cache, c, 80));
}

// Before the checks, 2^58-token blocks wrapped the block size to 0 (an arena of 0 bytes written
// past), a zero block size divided by zero under a byte budget, and a budget near INT64_MAX
// overflowed the round-up.
TEST_CASE("the KV planner refuses sizes that would wrap, naming the setting") {
  CHECK_THROWS_WITH_AS(plan_kv_cache(2, 1, 64, 64, DType::f16, int64_t{1} << 58, 100, 0),
                       doctest::Contains("kv_block_tokens 288230376151711744 is out of range (1..65536)"), Error);
  CHECK_THROWS_WITH_AS(plan_kv_cache(2, 1, 64, 64, DType::f16, 0, 100, 1 << 20), doctest::Contains("kv_block_tokens 0"),
                       Error);
  CHECK_THROWS_WITH_AS(plan_kv_cache(2, 1, 64, 64, DType::f16, 16, INT64_MAX - 1, 0),
                       doctest::Contains("kv_cache_tokens 9223372036854775806 is out of range"), Error);
  // Layers x block x bytes past 64 bits.
  CHECK_THROWS_WITH_AS(plan_kv_cache(INT64_MAX / 4, 1, 64, 64, DType::f32, 65536, 100, 0),
                       doctest::Contains("does not fit in 64 bits"), Error);
  // A byte budget alone: capped so that every position fits in int32.
  const KvLayout all = plan_kv_cache(2, 1, 64, 64, DType::f16, 16, 0, UINT64_MAX);
  CHECK(all.n_blocks * all.block_tokens <= INT32_MAX);
  CHECK(all.total_bytes() == uint64_t(all.n_blocks) * 16u * 2u * 256u);
  // The largest block and token budget plan without wrapping.
  const KvLayout big = plan_kv_cache(1, 1, 32, 32, DType::q8_0, 65536, INT32_MAX, 0);
  CHECK(big.n_blocks == INT32_MAX / 65536);  // whole blocks within the int32 positions
  CHECK(big.n_blocks * big.block_tokens > INT32_MAX - 65536);
  // A hand-made layout that was never planned is refused, not allocated short.
  KvLayout bogus = plan_kv_cache(2, 1, 64, 64, DType::f16, 16, 100, 0);
  bogus.n_blocks = 0;
  CHECK_THROWS_AS(KvBlockAllocator{bogus}, Error);
  // ... and so is storage for it.
  const auto cpu = ollm::backend::cpu_device()->create_backend({});
  CHECK_THROWS_WITH_AS(cpu->create_kv_storage(bogus), doctest::Contains("is not a planned one"), Error);
}
