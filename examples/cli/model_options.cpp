// Model loading and sampling options for the generating commands.
#include "model_options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "ollm/error.hpp"

namespace ollm_cli {

void add_model_options(CLI::App& cmd, ModelOptions& opt) {
  cmd.add_option("-m,--model", opt.model, "GGUF file or Hugging Face model directory")->required();
  cmd.add_option("-t,--threads", opt.threads, "Compute threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd.add_option("-c,--ctx", opt.ctx, "KV cache budget in tokens")->check(CLI::PositiveNumber);
  cmd.add_option("--kv-type", opt.kv_type, "KV cache type: f16 (default), bf16, f32 or q8_0")
      ->check(CLI::IsMember({"f16", "bf16", "f32", "q8_0"}));
  cmd.add_option("--numerics", opt.numerics,
                 "Rounding: standard, or llamacpp to reproduce llama.cpp's CPU rounding steps (logits that track "
                 "llama.cpp's; needs an f16 or f32 KV cache)")
      ->check(CLI::IsMember({"standard", "llamacpp"}));
  cmd.add_flag("--no-mmap", opt.no_mmap, "Read the weights into memory instead of mapping the file");
  cmd.add_flag("--verify", opt.verify_checksums,
               "Check the model's files against <model>.sha256 or SHA256SUMS beside it, when present");
}

void add_sampling_options(CLI::App& cmd, SamplingOptions& opt) {
  auto& p = opt.params;
  cmd.add_option("--temp", p.temperature, "Temperature (0 = greedy)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--top-k", p.top_k, "Top-k (0 = off)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--top-p", p.top_p, "Top-p (1 = off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--min-p", p.min_p, "Min-p (0 = off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--typical-p", p.typical_p, "Typical-p (1 = off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--repeat-penalty", p.repetition_penalty, "Repetition penalty (1 = off)");
  cmd.add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty");
  cmd.add_option("--presence-penalty", p.presence_penalty, "Presence penalty");
  cmd.add_option("--penalty-window", p.penalty_window, "Tokens the penalties look back over (-1 = all)");
  cmd.add_option("--seed", p.seed, "Random seed");
}

std::shared_ptr<const ollm::Model> load_model(const ModelOptions& opt) {
  ollm::ModelLoadOptions load;
  load.use_mmap = !opt.no_mmap;
  load.verify_checksums = opt.verify_checksums;
  if (isatty(STDERR_FILENO)) {
    load.progress = [](float fraction) {
      const int width = 30;
      const int filled = static_cast<int>(fraction * width);
      fmt::print(stderr, "\rloading [{:=<{}}{:<{}}] {:3.0f}%", "", filled, "", width - filled, fraction * 100);
      if (fraction >= 1.0f) fmt::print(stderr, "\r{:<50}\r", "");
      std::fflush(stderr);
      return true;
    };
  }
  return ollm::Model::load(opt.model, load);
}

ollm::EngineOptions engine_options(const ModelOptions& opt) {
  ollm::EngineOptions e;
  e.threads = opt.threads;
  e.kv_cache_tokens = opt.ctx;
  e.numerics = opt.numerics == "llamacpp" ? ollm::Numerics::llamacpp : ollm::Numerics::standard;
  e.kv_type = opt.kv_type == "f32"    ? ollm::DType::f32
              : opt.kv_type == "bf16" ? ollm::DType::bf16
              : opt.kv_type == "q8_0" ? ollm::DType::q8_0
                                      : ollm::DType::f16;
  return e;
}

}  // namespace ollm_cli
