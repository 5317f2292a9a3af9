// `ollm logits -m MODEL (--ids 1,2,3 | -p TEXT) [--json] [--top N]`: the logits of every position,
// for verification scripts (JSON: {"ids": [...], "vocab": V, "logits": [[...], ...]}).
#include <fmt/format.h>

#include <iostream>
#include <numeric>
#include <sstream>

#include "cli_checks.hpp"
#include "commands.hpp"
#include "json_out.hpp"
#include "model_options.hpp"
#include "ollm/engine.hpp"
#include "ollm/error.hpp"

namespace ollm_cli {
namespace {

struct LogitsOptions {
  ModelOptions model;
  std::string ids;
  std::string prompt;
  bool json = false;
  int top = 5;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v < 0 || v > INT32_MAX)
      throw ollm::Error(ollm::ErrorCode::invalid_argument, fmt::format("[logits] --ids: '{}' is not a token id", item));
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

int run(const LogitsOptions& opt) {
  if (opt.ids.empty() == opt.prompt.empty())
    throw ollm::Error(ollm::ErrorCode::invalid_argument, "[logits] give exactly one of --ids and --prompt");
  ModelOptions mo = opt.model;
  // Verification wants the exact path unless asked otherwise; llama.cpp numerics keep llama.cpp's
  // default F16 cache.
  if (mo.kv_type.empty()) mo.kv_type = mo.numerics == "llamacpp" ? "f16" : "f32";
  auto model = load_model(mo);
  const std::vector<int32_t> ids = opt.ids.empty() ? model->tokenizer().encode(opt.prompt) : parse_ids(opt.ids);
  auto eo = engine_options(mo);
  eo.kv_cache_tokens = std::max<int64_t>(eo.kv_cache_tokens, static_cast<int64_t>(ids.size()));
  ollm::Engine engine(model, eo);
  const std::vector<float> logits = engine.logits(ids);
  const int64_t vocab = model->vocab_size();
  if (opt.json) {
    JsonOut j(std::cout);
    j.begin_object().key("ids").begin_array();
    for (int32_t id : ids) j.value(static_cast<int64_t>(id));
    j.end_array().key("vocab").value(vocab).key("logits").begin_array();
    for (size_t r = 0; r < ids.size(); ++r) {
      j.begin_array();
      for (int64_t v = 0; v < vocab; ++v) j.value(static_cast<double>(logits[r * static_cast<size_t>(vocab) + static_cast<size_t>(v)]));
      j.end_array();
    }
    j.end_array().end_object();
    std::cout << '\n';
    return 0;
  }
  for (size_t r = 0; r < ids.size(); ++r) {
    const float* row = logits.data() + r * static_cast<size_t>(vocab);
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    const int top = std::min<int>(opt.top, static_cast<int>(vocab));
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    fmt::print("position {} (id {}):", r, ids[r]);
    for (int i = 0; i < top; ++i) fmt::print("  {}={:.4f}", order[static_cast<size_t>(i)], row[order[static_cast<size_t>(i)]]);
    fmt::print("\n");
  }
  return 0;
}

}  // namespace

Command add_logits_command(CLI::App& app) {
  auto opt = std::make_shared<LogitsOptions>();
  auto* cmd = app.add_subcommand("logits", "Print the logits of every position (for verification)");
  add_model_options(*cmd, opt->model);
  cmd->add_option("--ids", opt->ids, "Comma-separated token ids");
  cmd->add_option("-p,--prompt", opt->prompt, "Text (tokenized with the model's tokenizer, BOS added)");
  cmd->add_flag("--json", opt->json, "Every logit of every position as JSON");
  cmd->add_option("--top", opt->top, "Top entries per position in the text form")->check(integer_in(1));
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli
