// `ollm quantize IN.gguf OUT.gguf TYPE [--fallback TYPE]`: rewrite a GGUF model's weight
// matrices in another type (Q4_0, Q8_0, Q4_K, Q6_K, F16, ...).
#include <fmt/format.h>

#include "commands.hpp"
#include "ollm/error.hpp"
#include "ollm/quantize.hpp"

namespace ollm_cli {
namespace {

struct QuantizeCliOptions {
  std::string in, out, type, fallback = "Q8_0";
};

ollm::DType parse_type(const std::string& name, const char* what) {
  const auto t = ollm::dtype_from_name(name);
  if (!t) throw ollm::Error(ollm::ErrorCode::invalid_argument, fmt::format("[quantize] {} '{}' is not a known type", what, name));
  return *t;
}

int run(const QuantizeCliOptions& opt) {
  ollm::QuantizeOptions q;
  q.type = parse_type(opt.type, "TYPE");
  q.fallback = parse_type(opt.fallback, "--fallback");
  const auto r = ollm::quantize_model(opt.in, opt.out, q);
  fmt::print("{}: {} tensors, {} to {}, {} to {} (rows not a whole number of blocks); {:.1f} MB -> {:.1f} MB\n", opt.out,
             r.tensors, r.quantized, opt.type, r.fallback, opt.fallback, r.bytes_in / 1e6, r.bytes_out / 1e6);
  return 0;
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
  auto opt = std::make_shared<QuantizeCliOptions>();
  auto* cmd = app.add_subcommand("quantize", "Rewrite a GGUF model with its matrices in another type");
  cmd->add_option("input", opt->in, "Source GGUF file")->required();
  cmd->add_option("output", opt->out, "Destination GGUF file")->required();
  cmd->add_option("type", opt->type, "Target type: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS F16 BF16 F32")->required();
  cmd->add_option("--fallback", opt->fallback, "Type for matrices whose rows do not fit the target's blocks");
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli
