// `ollm chat -m MODEL [--system TEXT]`: an interactive chat on stdin/stdout using the model's own
// chat template; one session keeps the KV cache between turns so each turn computes only its
// new tokens. Ctrl-D ends it.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "cli_checks.hpp"
#include "commands.hpp"
#include "model_options.hpp"
#include "ollm/engine.hpp"
#include "ollm/error.hpp"

namespace ollm_cli {
namespace {

struct ChatOptions {
  ModelOptions model;
  SamplingOptions sampling;
  std::string system;
  int32_t max_tokens = 512;
};

int run(const ChatOptions& opt) {
  auto model = load_model(opt.model);
  if (!model->chat_template())
    throw ollm::Error(ollm::ErrorCode::not_found,
                      fmt::format("[chat] {} has no chat template (use `ollm run` for plain completion)", opt.model.model));
  ollm::Engine engine(model, engine_options(opt.model));
  const ollm::SessionId session = engine.open_session();
  std::vector<ollm::ChatMessage> messages;
  if (!opt.system.empty()) messages.push_back({"system", opt.system});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    ollm::ChatRequest chat;
    chat.messages = messages;
    chat.add_generation_prompt = true;
    ollm::GenerationRequest req;
    req.prompt = model->chat_template()->render(chat);
    req.add_special_tokens = false;
    req.max_tokens = opt.max_tokens;
    req.sampling = opt.sampling.params;
    req.session = session;
    const auto result = engine.generate(req, [](std::string_view piece) {
      std::cout << piece << std::flush;
      return true;
    });
    std::cout << std::endl;  // before anything on stderr, which is not buffered
  if (result.finish == ollm::FinishReason::context_full || result.finish == ollm::FinishReason::error) {
      fmt::print(stderr, "ollm chat: {}\n", result.error);
      return exit_failure;
    }
    messages.push_back({"assistant", result.text});
  }
  return 0;
}

}  // namespace

Command add_chat_command(CLI::App& app) {
  auto opt = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Interactive chat with the model's own chat template");
  add_model_options(*cmd, opt->model);
  add_sampling_options(*cmd, opt->sampling);
  cmd->add_option("--system", opt->system, "System message");
  cmd->add_option("-n,--max-tokens", opt->max_tokens, "Tokens per reply")->check(integer_in<int32_t>(1));
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli
