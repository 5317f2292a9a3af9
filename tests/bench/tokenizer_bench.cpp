// Tokenizer throughput: load time of each tokenizer.json and single-thread encode MB/s over the
// golden corpus (the same inputs scripts/bench/tokenizers_reference_bench.py gives HF tokenizers).
//   tokenizer_bench DATA_DIR [name...]     DATA_DIR = <build>/testdata/tokenizers
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "ollm/tokenizer.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} DATA_DIR [tokenizer-name...]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::string> names(argv + 2, argv + argc);
  if (names.empty()) names = {"llama3", "qwen3", "deepseek-v3", "gpt-oss", "gemma3", "sentencepiece-32k"};

  std::vector<std::string> texts;
  size_t bytes = 0;
  {
    std::ifstream in(dir + "/goldens/corpus.jsonl");
    simdjson::dom::parser parser;
    for (std::string line; std::getline(in, line);) {
      std::string_view t;
      if (parser.parse(line).get_object()["text"].get(t) != simdjson::SUCCESS) continue;
      texts.emplace_back(t);
      bytes += t.size();
    }
  }
  fmt::print("corpus: {} texts, {:.2f} MB\n", texts.size(), bytes / 1e6);
  fmt::print("{:<20} {:>10} {:>12} {:>10}\n", "tokenizer", "load ms", "encode MB/s", "tokens");
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name + "/tokenizer.json";
    double best_load = 1e9;
    std::optional<ollm::Tokenizer> tok;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = clock_type::now();
      tok.emplace(ollm::Tokenizer::from_json_files(path));
      best_load = std::min(best_load, seconds_since(t0));
    }
    size_t n_tokens = 0;
    for (const auto& t : texts) n_tokens += tok->encode(t).size();  // warm-up
    double best = 1e9;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = clock_type::now();
      size_t sink = 0;
      for (const auto& t : texts) sink += tok->encode(t).size();
      best = std::min(best, seconds_since(t0));
      if (sink != n_tokens) return 1;
    }
    fmt::print("{:<20} {:>10.1f} {:>12.2f} {:>10}\n", name, best_load * 1e3, bytes / 1e6 / best, n_tokens);
  }
  return 0;
}
