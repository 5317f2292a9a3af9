// `ollm run -m MODEL -p PROMPT [-n N] [sampling options] [--chat] [--stop S]...`: generate a
// completion, streamed to stdout. --chat wraps the prompt in the model's chat template.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli_checks.hpp"
#include "commands.hpp"
#include "model_options.hpp"
#include "ollm/engine.hpp"
#include "ollm/error.hpp"

namespace ollm_cli {
namespace {

struct RunOptions {
  ModelOptions model;
  SamplingOptions sampling;
  std::string prompt;
  int32_t max_tokens = 128;
  bool chat = false;
  bool ignore_eos = false;
  bool no_add_special = false;
  bool stats = false;
  std::vector<std::string> stop;
};

std::string chat_prompt(const ollm::Model& model, const std::string& user) {
  if (!model.chat_template())
    throw ollm::Error(ollm::ErrorCode::not_found, "[run] the model has no chat template; drop --chat");
  ollm::ChatRequest req;
  req.messages.push_back({"user", user});
  req.add_generation_prompt = true;
  return model.chat_template()->render(req);
}

int run(const RunOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_model(opt.model);
  const auto t1 = std::chrono::steady_clock::now();
  ollm::Engine engine(model, engine_options(opt.model));
  ollm::GenerationRequest req;
  if (opt.chat) {
    req.prompt = chat_prompt(*model, opt.prompt);
    req.add_special_tokens = false;  // as transformers: the template writes <bos> where the model wants it
  } else {
    req.prompt = opt.prompt;
    req.add_special_tokens = !opt.no_add_special;
  }
  req.max_tokens = opt.max_tokens;
  req.sampling = opt.sampling.params;
  req.stop = opt.stop;
  req.stop_at_eos = !opt.ignore_eos;
  const auto t2 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point first_token;
  bool have_first = false;
  const ollm::RequestId id = engine.submit(req, [&](std::string_view piece) {
    if (!have_first) {
      first_token = std::chrono::steady_clock::now();
      have_first = true;
    }
    std::cout << piece << std::flush;
    return true;
  });
  // Echoed once the request is accepted: a refused prompt leaves stdout empty and the error on
  // a line of its own.
  if (!opt.chat) std::cout << opt.prompt << std::flush;
  while (!engine.finished(id) && engine.step()) {
  }
  const auto result = engine.take_result(id);
  const auto t3 = std::chrono::steady_clock::now();
  // Flushed before anything goes to stderr: on a terminal (or one file for both) the statistics
  // must start on their own line, not after the last piece of text.
  std::cout << std::endl;
  if (opt.stats) {
    using ms = std::chrono::duration<double, std::milli>;
    const double gen_ms = ms(t3 - (have_first ? first_token : t2)).count();
    const auto n = result.tokens.size();
    fmt::print(stderr, "load {:.1f} ms · prompt {} tokens, first token after {:.1f} ms · {} tokens, {:.2f} tok/s after the first · finish: {}\n",
               ms(t1 - t0).count(), result.prompt_tokens, have_first ? ms(first_token - t2).count() : 0.0, n,
               n > 1 ? (n - 1) / gen_ms * 1000.0 : 0.0, ollm::finish_reason_name(result.finish));
  }
  if (result.finish == ollm::FinishReason::context_full || result.finish == ollm::FinishReason::error) {
    fmt::print(stderr, "ollm run: stopped: {}\n", result.error);
    return exit_failure;
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  add_model_options(*cmd, opt->model);
  add_sampling_options(*cmd, opt->sampling);
  cmd->add_option("-p,--prompt", opt->prompt, "Prompt text")->required();
  cmd->add_option("-n,--max-tokens", opt->max_tokens, "Tokens to generate")->check(integer_in<int32_t>(0));
  cmd->add_flag("--chat", opt->chat, "Format the prompt with the model's chat template");
  cmd->add_option("--stop", opt->stop, "Stop string (repeatable)");
  cmd->add_flag("--ignore-eos", opt->ignore_eos, "Keep generating past end-of-sequence tokens");
  cmd->add_flag("--no-add-special,--no-bos", opt->no_add_special, "Do not add BOS or other special tokens to the prompt");
  cmd->add_flag("--stats", opt->stats, "Print timings to stderr");
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli
