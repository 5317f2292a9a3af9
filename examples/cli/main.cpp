// `ollm`: the command-line tool over the public C++ API.
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "ollm/error.hpp"
#include "ollm/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ollm — run open-weight language models in process"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and build information");

  const std::vector<ollm_cli::Command> commands = {
      ollm_cli::add_run_command(app),
      ollm_cli::add_chat_command(app),
      ollm_cli::add_logits_command(app),
      ollm_cli::add_bench_command(app),
      ollm_cli::add_inspect_command(app),
      ollm_cli::add_quantize_command(app),
      ollm_cli::add_tokenize_command(app),
      ollm_cli::add_chat_template_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ollm_cli::exit_usage;
  }

  if (show_version) {
    const auto info = ollm::build_info();
    fmt::print("ollm {}\nbackends: {}\ncpu features: {}\noneDNN: {}\ncuda: {}\n", ollm::version_string(),
               fmt::join(info.backends, ", "), fmt::join(info.cpu_features, " "), info.onednn ? "yes" : "no",
               info.cuda_status);
    return 0;
  }
  for (const auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const ollm::Error& e) {
      fmt::print(stderr, "ollm {}: error ({}): {}\n", sub->get_name(), ollm::error_code_name(e.code()), e.what());
      return e.code() == ollm::ErrorCode::invalid_argument ? ollm_cli::exit_usage : ollm_cli::exit_failure;
    } catch (const std::exception& e) {
      fmt::print(stderr, "ollm {}: error: {}\n", sub->get_name(), e.what());
      return ollm_cli::exit_failure;
    }
  }
  std::cout << app.help();
  return ollm_cli::exit_usage;
}
