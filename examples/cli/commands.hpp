// Subcommands of the `ollm` tool: each registers its options on the CLI11 app and returns
// the function that runs it once the command line has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace ollm_cli {

using Runner = std::function<int()>;

struct Command {
  CLI::App* app;  // the subcommand, to ask whether it was given
  Runner run;
};

// Exit codes: 0 success, 1 the operation failed (bad file, unsupported model...), 2 usage error.
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

Command add_inspect_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_chat_template_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_chat_command(CLI::App& app);
Command add_logits_command(CLI::App& app);
Command add_quantize_command(CLI::App& app);
Command add_bench_command(CLI::App& app);

}  // namespace ollm_cli
