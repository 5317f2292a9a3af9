// Model loading and sampling options for the generating commands.
#include "model_options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "cli_checks.hpp"
#include "ollm/error.hpp"

namespace ollm_cli {

void add_model_options(CLI::App& cmd, ModelOptions& opt) {
  cmd.add_option("-m,--model", opt.model, "GGUF file or Hugging Face model directory")->required();
  cmd.add_option("--device", opt.device, "Device: cpu (default), cuda or cuda:N");
  cmd.add_option("-t,--threads", opt.threads, "Compute threads (0 = all cores)")->check(integer_in(0, max_threads));
  cmd.add_option("-c,--ctx", opt.ctx, "KV cache budget in tokens")->check(integer_in<int64_t>(1, INT32_MAX));
  cmd.add_option("--kv-type", opt.kv_type, "KV cache type: f16 (default), bf16, f32 or q8_0")
      ->check(CLI::IsMember({"f16", "bf16", "f32", "q8_0"}));
  cmd.add_option("--numerics", opt.numerics,
                 "Rounding: standard, llamacpp to reproduce llama.cpp's CPU rounding steps (logits that track "
                 "llama.cpp's; needs an f16 or f32 KV cache), or exact: f32 activations and arithmetic, the "
                 "dequantized model as transformers computes it (KV cache f32 unless --kv-type is given)")
      ->check(CLI::IsMember({"standard", "llamacpp", "exact"}));
  cmd.add_flag("--no-mmap", opt.no_mmap, "Read the weights into memory instead of mapping the file");
  auto* verify = cmd.add_flag("--verify", opt.verify_checksums,
                              "Hash every file listed in <model>.sha256 or SHA256SUMS beside the model now, even "
                              "those verified before (by default, listed files are hashed once and remembered)");
  cmd.add_flag("--no-verify", opt.no_verify, "Do not check the model's files against a checksum manifest")
      ->excludes(verify);
}

void add_sampling_options(CLI::App& cmd, SamplingOptions& opt) {
  auto& p = opt.params;
  // The ranges the sampler accepts (runtime/sampler.cpp), so a bad value is a usage error here.
  cmd.add_option("--temp", p.temperature, "Temperature (0 = greedy)")->check(number_in(0, unbounded));
  cmd.add_option("--top-k", p.top_k, "Top-k (0 = off)")->check(integer_in<int32_t>(0));
  cmd.add_option("--top-p", p.top_p, "Top-p (1 = off)")->check(number_in(0, 1, Bound::open));
  cmd.add_option("--min-p", p.min_p, "Min-p (0 = off)")->check(number_in(0, 1));
  cmd.add_option("--typical-p", p.typical_p, "Typical-p (1 = off)")->check(number_in(0, 1, Bound::open));
  cmd.add_option("--repeat-penalty", p.repetition_penalty, "Repetition penalty (1 = off)")
      ->check(number_in(0, unbounded, Bound::open));
  cmd.add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty")
      ->check(number_in(-unbounded, unbounded));
  cmd.add_option("--presence-penalty", p.presence_penalty, "Presence penalty")->check(number_in(-unbounded, unbounded));
  cmd.add_option("--penalty-window", p.penalty_window, "Tokens the penalties look back over (-1 = all)")
      ->check(integer_in<int32_t>(-1));
  cmd.add_option("--seed", p.seed, "Random seed")->check(integer_in<uint64_t>(0));
}

std::shared_ptr<const ollm::Model> load_model(const ModelOptions& opt) {
  ollm::ModelLoadOptions load;
  load.device = opt.device;
  load.use_mmap = !opt.no_mmap;
  load.verify_checksums = opt.verify_checksums ? ollm::ChecksumPolicy::always
                         : opt.no_verify        ? ollm::ChecksumPolicy::never
                                                : ollm::ChecksumPolicy::automatic;
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

ollm::Numerics numerics_of(const std::string& name) {
  return name == "llamacpp" ? ollm::Numerics::llamacpp
         : name == "exact"  ? ollm::Numerics::exact
                            : ollm::Numerics::standard;
}

ollm::EngineOptions engine_options(const ModelOptions& opt) {
  ollm::EngineOptions e;
  e.threads = opt.threads;
  e.kv_cache_tokens = opt.ctx;
  e.numerics = numerics_of(opt.numerics);
  // Exact numerics keep K and V in f32 too, as the reference does, unless the user chose a type.
  const std::string kv = opt.kv_type.empty() && e.numerics == ollm::Numerics::exact ? "f32" : opt.kv_type;
  e.kv_type = kv == "f32"    ? ollm::DType::f32
              : kv == "bf16" ? ollm::DType::bf16
              : kv == "q8_0" ? ollm::DType::q8_0
                                      : ollm::DType::f16;
  return e;
}

}  // namespace ollm_cli
