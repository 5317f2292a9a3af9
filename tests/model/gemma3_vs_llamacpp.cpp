// The real Gemma 3 270M Q4_K_M against llama.cpp (tests/data/gemma3/llamacpp_goldens.json, made
// by scripts/reference/make_gemma3_llamacpp_goldens.py with llama-cpp-python):
//  1. teacher-forced: at every step of all 20 reference continuations, whether our top-1 token
//     equals llama.cpp's (steps where llama.cpp's own top-2 margin is below 0.01 count as agreeing)
//     and how far our logit for llama.cpp's top-1 token is from its;
//  2. free-running greedy generation: where each 64-token continuation first diverges;
//  3. perplexity over the committed Persuasion excerpt, same windows;
//  4. single tokens at position 0, where attention is exact whatever the rounding.
// The per-step bar is llama.cpp's agreement with itself ("self_consistency" in the goldens: the
// same continuations teacher-forced in one batch against its own token-by-token decode, i.e. only
// the float summation order changed): 97.9 % top-1 agreement, median top-1 logit difference
// 0.79 %. With 8-bit activations a last-bit difference flips an activation code now and then,
// and on this model such a flip grows to percent-level logit changes within a few layers
// (docs/MODELS.md). Bounds: perplexity within 1 %; top-1 agreement at most 2 points below
// llama.cpp's self-agreement; median top-1 logit difference within 1 %; with llamacpp numerics,
// at least half of the position-0 cases within 1e-5 of llama.cpp's logits (relative to the largest).
// Usage: gemma3_vs_llamacpp MODEL.gguf GOLDENS.json [standard|llamacpp] — exits 77 (skipped)
// when the model is absent.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "ollm/engine.hpp"
#include "ollm/error.hpp"

namespace {

std::vector<int32_t> ids_of(simdjson::dom::array a) {
  std::vector<int32_t> out;
  for (auto v : a) out.push_back(static_cast<int32_t>(int64_t(v)));
  return out;
}

struct Step {
  int32_t top1;
  double logit1;
  int32_t top2;
  double logit2;
  double margin() const { return logit1 - logit2; }
};

int32_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return static_cast<int32_t>(best);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fmt::print(stderr, "usage: gemma3_vs_llamacpp MODEL.gguf GOLDENS.json [standard|llamacpp]\n");
    return 2;
  }
  if (!std::filesystem::exists(argv[1])) {
    fmt::print("model {} not present (run scripts/get-model.sh): skipped\n", argv[1]);
    return 77;
  }
  try {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.load(argv[2]);
    auto model = ollm::Model::load(argv[1]);
    ollm::EngineOptions eo;
    eo.kv_cache_tokens = 1024;
    eo.kv_type = ollm::DType::f16;  // as llama.cpp's default cache
    const std::string numerics = argc == 4 ? argv[3] : "standard";
    if (numerics != "standard" && numerics != "llamacpp") {
      fmt::print(stderr, "numerics must be standard or llamacpp, not {}\n", numerics);
      return 2;
    }
    eo.numerics = numerics == "llamacpp" ? ollm::Numerics::llamacpp : ollm::Numerics::standard;
    ollm::Engine engine(model, eo);
    const int64_t vocab = model->vocab_size();
    int failures = 0, small_margin_skips = 0, steps_checked = 0, top1_disagree = 0;
    std::vector<double> logit_rel;
    std::vector<size_t> diverge_at;

    for (auto g : doc["greedy"].get_array()) {
      const int64_t index = int64_t(g["index"]);
      const auto prompt = ids_of(g["prompt_ids"].get_array());
      const auto expected = ids_of(g["generated_ids"].get_array());
      std::vector<Step> steps;
      for (auto s : g["steps"].get_array()) {
        auto a = s.get_array();
        steps.push_back({static_cast<int32_t>(int64_t(a.at(0))), double(a.at(1)), static_cast<int32_t>(int64_t(a.at(2))),
                         double(a.at(3))});
      }
      // 1. Teacher forcing over prompt + reference continuation.
      std::vector<int32_t> all = prompt;
      all.insert(all.end(), expected.begin(), expected.end() - 1);
      const std::vector<float> logits = engine.logits(all);
      for (size_t k = 0; k < steps.size(); ++k) {
        const float* row = logits.data() + (prompt.size() - 1 + k) * static_cast<size_t>(vocab);
        const int32_t ours = argmax(row, vocab);
        ++steps_checked;
        const double rel = std::abs(row[steps[k].top1] - steps[k].logit1) / std::max(1e-6, std::abs(steps[k].logit1));
        logit_rel.push_back(rel);
        if (ours != steps[k].top1) {
          if (steps[k].margin() < 0.01) {
            fmt::print("note prompt {} step {}: top-1 {} vs llama.cpp {} where its margin is {:.5f} (< 0.01)\n", index, k,
                       ours, steps[k].top1, steps[k].margin());
            ++small_margin_skips;
          } else {
            fmt::print("prompt {} step {}: top-1 {} vs llama.cpp {} (its margin {:.4f}, our logit diff {:.2f}%)\n", index,
                       k, ours, steps[k].top1, steps[k].margin(), rel * 100);
            ++top1_disagree;
          }
        }
      }
      // 2. Free-running greedy generation.
      ollm::GenerationRequest req;
      req.prompt_ids = prompt;
      req.max_tokens = static_cast<int32_t>(expected.size());
      req.stop_at_eos = false;
      const auto result = engine.generate(req);
      size_t same = 0;
      while (same < expected.size() && same < result.tokens.size() && result.tokens[same] == expected[same]) ++same;
      diverge_at.push_back(same);
      if (same < expected.size())
        fmt::print("prompt {}: free-running generation diverges at step {} (llama.cpp margin there {:.4f})\n", index,
                   same, same < steps.size() ? steps[same].margin() : -1.0);
    }

    // 4. Single tokens at position 0. Even here a last-bit summation-order difference can flip one
    // fp16 or 8-bit rounding and grow (measured on token 110323: V of layer 2 off by 3e-5, 1.5e-2
    // by layer 13), so the bound asks for at least half of the cases to be exact to 1e-5; standard
    // numerics get none (their rounding differs everywhere: ~1e-2).
    int pos0_exact = 0, pos0_cases = 0;
    for (auto cs : doc["position0"]["cases"].get_array()) {
      const auto ids0 = ids_of(cs["ids"].get_array());
      const std::vector<float> row = engine.logits(ids0);
      double worst = 0, largest = 0;
      for (auto t : cs["top"].get_array()) {
        auto a = t.get_array();
        const int64_t id = int64_t(a.at(0));
        const double ref = double(a.at(1));
        worst = std::max(worst, std::abs(static_cast<double>(row[static_cast<size_t>(id)]) - ref));
        largest = std::max(largest, std::abs(ref));
      }
      fmt::print("position 0, token {}: largest difference over llama.cpp's top-256 logits {:.2e} of the largest\n",
                 ids0.at(0), worst / largest);
      ++pos0_cases;
      if (worst / largest <= 1e-5) ++pos0_exact;
    }
    fmt::print("position 0: {} of {} single-token cases within 1e-5 of llama.cpp\n", pos0_exact, pos0_cases);
    if (numerics == "llamacpp" && 2 * pos0_exact < pos0_cases) {
      fmt::print("FAIL with llamacpp numerics fewer than half of the position-0 cases are within 1e-5\n");
      ++failures;
    }

    // 3. Perplexity, llama.cpp's windows.
    auto ppl = doc["perplexity"];
    const auto ids = ids_of(ppl["token_ids"].get_array());
    const int64_t window = int64_t(ppl["window"]), skip = int64_t(ppl["skip"]);
    const double ref_ppl = double(ppl["perplexity"]);
    const std::vector<int32_t> text(ids.begin() + 1, ids.end());
    double nll_sum = 0;
    int64_t scored = 0;
    for (size_t w = 0; (w + 1) * static_cast<size_t>(window - 1) <= text.size(); ++w) {
      std::vector<int32_t> win = {ids[0]};
      win.insert(win.end(), text.begin() + static_cast<ptrdiff_t>(w * (window - 1)),
                 text.begin() + static_cast<ptrdiff_t>((w + 1) * (window - 1)));
      const std::vector<float> logits = engine.logits(win);
      for (int64_t j = skip; j < window; ++j) {
        const float* row = logits.data() + (j - 1) * vocab;
        double max = row[0];
        for (int64_t v = 1; v < vocab; ++v) max = std::max(max, static_cast<double>(row[v]));
        double sum = 0;
        for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
        nll_sum += -(static_cast<double>(row[win[static_cast<size_t>(j)]]) - max - std::log(sum));
        ++scored;
      }
    }
    const double our_ppl = std::exp(nll_sum / static_cast<double>(scored));
    const double ppl_rel = std::abs(our_ppl - ref_ppl) / ref_ppl;
    fmt::print("perplexity {:.4f} vs llama.cpp {:.4f} ({:+.3f}%) over {} tokens\n", our_ppl, ref_ppl,
               (our_ppl - ref_ppl) / ref_ppl * 100, scored);
    if (ppl_rel > 0.01) {
      fmt::print("FAIL perplexity differs by more than 1%\n");
      ++failures;
    }
    std::sort(logit_rel.begin(), logit_rel.end());
    const double median = logit_rel[logit_rel.size() / 2], p90 = logit_rel[logit_rel.size() * 9 / 10];
    const double agree = 1.0 - static_cast<double>(top1_disagree) / static_cast<double>(steps_checked);
    std::sort(diverge_at.begin(), diverge_at.end());
    const size_t full = static_cast<size_t>(std::count(diverge_at.begin(), diverge_at.end(), size_t{64}));
    fmt::print("{} teacher-forced steps: top-1 agrees on {:.1f}% ({} differ at llama.cpp margins >= 0.01, {} below); "
               "top-1 logit difference median {:.2f}%, p90 {:.2f}%, max {:.2f}%\n",
               steps_checked, agree * 100, top1_disagree, small_margin_skips, median * 100, p90 * 100,
               logit_rel.back() * 100);
    fmt::print("free-running: {} of {} continuations identical for all 64 tokens; median first divergence at step {}\n",
               full, diverge_at.size(), diverge_at[diverge_at.size() / 2]);
    auto self = doc["self_consistency"];
    const double self_agree = double(self["top1_agreement"]), self_median = double(self["top1_logit_rel_diff_median"]);
    fmt::print("llama.cpp against itself (batch vs decode): top-1 agrees on {:.1f}%, median top-1 logit difference "
               "{:.2f}%, p90 {:.2f}%\n",
               self_agree * 100, self_median * 100, double(self["top1_logit_rel_diff_p90"]) * 100);
    if (agree < self_agree - 0.02) {
      fmt::print("FAIL top-1 agreement {:.1f}% is more than 2 points below llama.cpp's own {:.1f}%\n", agree * 100,
                 self_agree * 100);
      ++failures;
    }
    if (median > 0.01) {
      fmt::print("FAIL median top-1 logit difference {:.2f}% is above 1%\n", median * 100);
      ++failures;
    }
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
