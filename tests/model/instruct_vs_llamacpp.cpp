// A real instruct GGUF (SmolLM2-135M-Instruct Q4_1, Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the files
// scripts/get-models.sh fetches) through ollm's chat path against llama.cpp
// (tests/data/<model>/llamacpp_chat_goldens.json, made by
// scripts/reference/make_instruct_llamacpp_goldens.py with llama-cpp-python). For every
// conversation of the golden:
//  1. the model's own chat template (from the GGUF) rendered by ollm with add_generation_prompt
//     must equal the golden's rendering (jinja2 as transformers sets it up), byte for byte;
//  2. ollm's tokenization of it (special tokens parsed, no BOS, as `ollm chat` does) must equal
//     llama.cpp's ids;
//  3. teacher-forced along llama.cpp's greedy continuation: whether our top-1 token equals
//     llama.cpp's at every step (steps where llama.cpp's own top-2 margin is below 0.01 count as
//     agreeing) and how far our logit for its top-1 token is from its;
//  4. free-running greedy generation from the rendered text: where it first diverges; and where
//     it follows llama.cpp through the whole reply, generation with stop at end-of-turn must end
//     exactly there (FinishReason::eos) with the golden's reply text.
// Bounds are the Gemma test's (tests/model/gemma3_vs_llamacpp.cpp), measured against
// llama.cpp's agreement with itself ("self_consistency": the same continuations teacher-forced in
// one batch against its own token-by-token decode, only the summation order changed): top-1
// agreement at most 2 points below llama.cpp's self-agreement, median top-1 logit difference
// within 1 %. Rendering and token ids must match exactly.
// Usage: instruct_vs_llamacpp MODEL.gguf GOLDENS.json [standard|llamacpp] — exits 77 (skipped)
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

std::string shown(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fmt::print(stderr, "usage: instruct_vs_llamacpp MODEL.gguf GOLDENS.json [standard|llamacpp]\n");
    return 2;
  }
  if (!std::filesystem::exists(argv[1])) {
    fmt::print("model {} not present (run scripts/get-models.sh): skipped\n", argv[1]);
    return 77;
  }
  try {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.load(argv[2]);
    const std::string numerics = argc == 4 ? argv[3] : "standard";
    if (numerics != "standard" && numerics != "llamacpp") {
      fmt::print(stderr, "numerics must be standard or llamacpp, not {}\n", numerics);
      return 2;
    }
    const auto size = static_cast<int64_t>(std::filesystem::file_size(argv[1]));
    if (size != int64_t(doc["model"]["size_bytes"])) {
      fmt::print("FAIL {} is {} bytes; the goldens were made from {} ({} bytes): run scripts/get-models.sh\n",
                 argv[1], size, std::string_view(doc["model"]["file"]), int64_t(doc["model"]["size_bytes"]));
      return 1;
    }
    auto model = ollm::Model::load(argv[1]);
    if (!model->chat_template()) {
      fmt::print("FAIL {} loaded without its chat template\n", argv[1]);
      return 1;
    }
    ollm::EngineOptions eo;
    eo.kv_cache_tokens = 1024;
    eo.kv_type = ollm::DType::f16;  // as llama.cpp's default cache
    eo.numerics = numerics == "llamacpp" ? ollm::Numerics::llamacpp : ollm::Numerics::standard;
    ollm::Engine engine(model, eo);
    const int64_t vocab = model->vocab_size();
    const size_t n_gen = static_cast<size_t>(int64_t(doc["settings"]["n_gen"]));
    int failures = 0, small_margin_skips = 0, steps_checked = 0, top1_disagree = 0, replies_checked = 0;
    std::vector<double> logit_rel;
    std::vector<size_t> diverge_at;

    for (auto c : doc["conversations"].get_array()) {
      const int64_t index = int64_t(c["index"]);
      // 1. The chat template, through ollm's API.
      ollm::ChatRequest chat;
      for (auto m : c["messages"].get_array())
        chat.messages.push_back({std::string(std::string_view(m["role"])), std::string(std::string_view(m["content"]))});
      chat.add_generation_prompt = true;
      const std::string rendered = model->chat_template()->render(chat);
      const std::string_view expected_render = c["rendered"];
      if (rendered != expected_render) {
        fmt::print("FAIL conversation {}: rendered\n  \"{}\"\nexpected\n  \"{}\"\n", index, shown(rendered),
                   shown(expected_render));
        ++failures;
        continue;
      }
      // 2. Tokenization as `ollm chat` does it.
      const auto prompt = ids_of(c["prompt_ids"].get_array());
      if (model->tokenizer().encode(rendered, false, true) != prompt) {
        fmt::print("FAIL conversation {}: ollm's token ids of the rendered prompt differ from llama.cpp's\n", index);
        ++failures;
        continue;
      }
      const auto expected = ids_of(c["generated_ids"].get_array());
      std::vector<Step> steps;
      for (auto s : c["steps"].get_array()) {
        auto a = s.get_array();
        steps.push_back({static_cast<int32_t>(int64_t(a.at(0))), double(a.at(1)), static_cast<int32_t>(int64_t(a.at(2))),
                         double(a.at(3))});
      }
      // 3. Teacher forcing over prompt + reference continuation.
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
            fmt::print("note conversation {} step {}: top-1 {} vs llama.cpp {} where its margin is {:.5f} (< 0.01)\n",
                       index, k, ours, steps[k].top1, steps[k].margin());
            ++small_margin_skips;
          } else {
            fmt::print("conversation {} step {}: top-1 {} vs llama.cpp {} (its margin {:.4f}, our logit diff {:.2f}%)\n",
                       index, k, ours, steps[k].top1, steps[k].margin(), rel * 100);
            ++top1_disagree;
          }
        }
      }
      // 4. Free-running greedy generation from the text, as the chat path submits it.
      ollm::GenerationRequest req;
      req.prompt = rendered;
      req.add_special_tokens = false;
      req.max_tokens = static_cast<int32_t>(n_gen);
      req.stop_at_eos = false;
      const auto result = engine.generate(req);
      if (result.prompt_tokens != static_cast<int64_t>(prompt.size())) {
        fmt::print("FAIL conversation {}: the engine tokenized the prompt to {} tokens, llama.cpp to {}\n", index,
                   result.prompt_tokens, prompt.size());
        ++failures;
      }
      size_t same = 0;
      while (same < expected.size() && same < result.tokens.size() && result.tokens[same] == expected[same]) ++same;
      diverge_at.push_back(same);
      if (same < expected.size())
        fmt::print("conversation {}: free-running generation diverges at step {} (llama.cpp margin there {:.4f})\n",
                   index, same, same < steps.size() ? steps[same].margin() : -1.0);
      // Where it followed llama.cpp through the whole reply, stopping at end-of-turn must end it there.
      const auto reply = ids_of(c["reply_ids"].get_array());
      const bool ends = bool(c["reply_ends_with_eog"]);
      if (same >= reply.size() + (ends ? 1 : 0)) {
        req.stop_at_eos = true;
        const auto stopped = engine.generate(req);
        const std::string_view reply_text = c["reply_text"];
        const auto want = ends ? ollm::FinishReason::eos : ollm::FinishReason::length;
        ++replies_checked;
        if (stopped.finish != want || stopped.text != reply_text) {
          fmt::print("FAIL conversation {}: with stop at end-of-turn the reply is \"{}\" (finish {}); llama.cpp's is "
                     "\"{}\" (finish {})\n",
                     index, shown(stopped.text), ollm::finish_reason_name(stopped.finish), shown(reply_text),
                     ollm::finish_reason_name(want));
          ++failures;
        }
      }
    }

    if (steps_checked == 0) {
      fmt::print("FAIL no step compared\n");
      return 1;
    }
    std::sort(logit_rel.begin(), logit_rel.end());
    const double median = logit_rel[logit_rel.size() / 2], p90 = logit_rel[logit_rel.size() * 9 / 10];
    const double agree = 1.0 - static_cast<double>(top1_disagree) / static_cast<double>(steps_checked);
    std::sort(diverge_at.begin(), diverge_at.end());
    const size_t full = static_cast<size_t>(std::count(diverge_at.begin(), diverge_at.end(), n_gen));
    fmt::print("{} teacher-forced steps: top-1 agrees on {:.1f}% ({} differ at llama.cpp margins >= 0.01, {} below); "
               "top-1 logit difference median {:.3f}%, p90 {:.3f}%, max {:.2f}%\n",
               steps_checked, agree * 100, top1_disagree, small_margin_skips, median * 100, p90 * 100,
               logit_rel.back() * 100);
    fmt::print("free-running: {} of {} continuations identical for all {} tokens; median first divergence at step {}; "
               "{} replies checked for their end-of-turn stop\n",
               full, diverge_at.size(), n_gen, diverge_at[diverge_at.size() / 2], replies_checked);
    auto self = doc["self_consistency"];
    const double self_agree = double(self["top1_agreement"]), self_median = double(self["top1_logit_rel_diff_median"]);
    fmt::print("llama.cpp against itself (batch vs decode): top-1 agrees on {:.1f}%, median top-1 logit difference "
               "{:.3f}%, p90 {:.3f}%\n",
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
