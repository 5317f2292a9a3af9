// Options shared by the commands that load a model and generate (run, chat, logits, bench):
// the model path, threads, KV budget and sampling settings, and the load progress bar.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "ollm/engine.hpp"
#include "ollm/model.hpp"

namespace ollm_cli {

struct ModelOptions {
  std::string model;
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" (the library's registry checks it)
  int threads = 0;
  int64_t ctx = 4096;
  std::string kv_type;  // empty: f16 (logits: f32 under standard numerics)
  std::string numerics = "standard";
  bool no_mmap = false;
  bool verify_checksums = false;  // --verify: hash now, whatever the checksum cache says
  bool no_verify = false;         // --no-verify: skip the manifest
};

struct SamplingOptions {
  ollm::SamplingParams params;
};

void add_model_options(CLI::App& cmd, ModelOptions& opt);
void add_sampling_options(CLI::App& cmd, SamplingOptions& opt);

// Loads with a progress bar on stderr when it is a terminal.
std::shared_ptr<const ollm::Model> load_model(const ModelOptions& opt);
ollm::EngineOptions engine_options(const ModelOptions& opt);
// "standard" | "llamacpp" | "exact" (validated by the option's check) as ollm::Numerics.
ollm::Numerics numerics_of(const std::string& name);

}  // namespace ollm_cli
