// The real Gemma 3 270M Q4_K_M against the exact model it dequantizes to: transformers in float32
// on the dequantized GGUF (tests/data/gemma3/exact_goldens.json + exact_logits_sample.f32, made by
// scripts/reference/make_gemma3_exact_goldens.py). Teacher-forced over 20 prompts, each followed by
// 16 continuation tokens; every position scored:
//  - top-1 agreement: our argmax over the whole vocabulary equals the reference's;
//  - normalised logit error sum((ours - ref)^2) / sum(ref^2) over the 512 sampled vocabulary ids
//    of every position (pooled over positions, and its median per position).
// Usage: gemma3_vs_exact MODEL.gguf GOLDENS_DIR NUMERICS KV_TYPE MIN_TOP1 MAX_NMSE
//   NUMERICS standard|llamacpp|exact, KV_TYPE f16|f32; fails when top-1 agreement < MIN_TOP1 or the
//   pooled error > MAX_NMSE. Exits 77 (skipped) when the model is absent.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ollm/engine.hpp"
#include "ollm/error.hpp"

namespace {

int32_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return static_cast<int32_t>(best);
}

std::vector<float> read_f32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const auto bytes = std::filesystem::file_size(path);
  std::vector<float> out(bytes / 4);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * 4));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    fmt::print(stderr, "usage: gemma3_vs_exact MODEL.gguf GOLDENS_DIR standard|llamacpp|exact f16|f32 MIN_TOP1 MAX_NMSE\n");
    return 2;
  }
  if (!std::filesystem::exists(argv[1])) {
    fmt::print("model {} not present (run scripts/get-model.sh): skipped\n", argv[1]);
    return 77;
  }
  const std::string numerics = argv[3], kv = argv[4];
  const double min_top1 = std::stod(argv[5]), max_nmse = std::stod(argv[6]);
  try {
    const std::filesystem::path dir = argv[2];
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.load((dir / "exact_goldens.json").string());
    const std::vector<float> sample = read_f32(dir / "exact_logits_sample.f32");
    std::vector<int64_t> sample_ids;
    for (auto v : doc["sample_ids"].get_array()) sample_ids.push_back(int64_t(v));
    const size_t n_sample = sample_ids.size();
    const auto n_positions = static_cast<size_t>(int64_t(doc["n_positions"]));
    if (sample.size() != n_positions * n_sample) throw std::runtime_error("exact_logits_sample.f32 has the wrong size");

    auto model = ollm::Model::load(argv[1]);
    ollm::EngineOptions eo;
    eo.kv_cache_tokens = 1024;
    eo.kv_type = kv == "f32" ? ollm::DType::f32 : ollm::DType::f16;
    eo.numerics = numerics == "exact"      ? ollm::Numerics::exact
                  : numerics == "llamacpp" ? ollm::Numerics::llamacpp
                                           : ollm::Numerics::standard;
    ollm::Engine engine(model, eo);
    const int64_t vocab = model->vocab_size();

    size_t position = 0, agree = 0, disagree_small_margin = 0;
    double err_sum = 0, ref_sum = 0;
    std::vector<double> per_position;
    for (auto seq : doc["sequences"].get_array()) {
      std::vector<int32_t> ids;
      for (auto v : seq["ids"].get_array()) ids.push_back(static_cast<int32_t>(int64_t(v)));
      const std::vector<float> logits = engine.logits(ids);
      size_t p = 0;
      for (auto pos : seq["positions"].get_array()) {
        const float* row = logits.data() + p * static_cast<size_t>(vocab);
        const int32_t ref_top1 = static_cast<int32_t>(int64_t(pos["top1"]));
        const double margin = double(pos["margin"]);
        const int32_t ours = argmax(row, vocab);
        if (ours == ref_top1) {
          ++agree;
        } else {
          if (margin < 1e-3) ++disagree_small_margin;
          fmt::print("sequence {} position {}: top-1 {} vs reference {} (reference margin {:.5f})\n",
                     int64_t(seq["index"]), p, ours, ref_top1, margin);
        }
        double e = 0, r = 0;
        const float* ref = sample.data() + position * n_sample;
        for (size_t j = 0; j < n_sample; ++j) {
          const double d = double(row[sample_ids[j]]) - double(ref[j]);
          e += d * d;
          r += double(ref[j]) * double(ref[j]);
        }
        err_sum += e;
        ref_sum += r;
        per_position.push_back(e / r);
        ++p;
        ++position;
      }
    }
    if (position != n_positions) throw std::runtime_error("position count differs from n_positions");
    std::sort(per_position.begin(), per_position.end());
    const double top1 = static_cast<double>(agree) / static_cast<double>(position);
    const double nmse = err_sum / ref_sum;
    fmt::print("numerics {} kv {}: top-1 agreement {:.2f}% ({} of {}; {} of the misses at reference margins < 1e-3), "
               "normalised error pooled {:.3g}, median {:.3g}, max {:.3g}\n",
               numerics, kv, 100 * top1, agree, position, disagree_small_margin, nmse,
               per_position[per_position.size() / 2], per_position.back());
    bool ok = true;
    if (top1 < min_top1) {
      fmt::print("FAIL: top-1 agreement {:.4f} below {:.4f}\n", top1, min_top1);
      ok = false;
    }
    if (nmse > max_nmse) {
      fmt::print("FAIL: normalised error {:.3g} above {:.3g}\n", nmse, max_nmse);
      ok = false;
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
