// Shared helpers of the tokenizer tests: where the extracted tokenizers and goldens live, and a
// reader for the goldens' JSON lines.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ollm_test {

inline std::filesystem::path tokenizer_data_dir() { return OLLM_TOKENIZER_DATA; }
inline std::filesystem::path tokenizer_json_path(const std::string& name) {
  if (name == "minilm") return std::filesystem::path(OLLM_TEST_DATA) / "tokenizers/minilm/tokenizer.json";
  return tokenizer_data_dir() / name / "tokenizer.json";
}

inline std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p, std::ios::binary);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

struct GoldenCase {
  std::vector<int32_t> ids, ids_plain, ids_nospecial;
  std::string decoded, decoded_skip;
};

inline std::vector<int32_t> id_list(simdjson::dom::element e) {
  std::vector<int32_t> out;
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element v : a) {
    int64_t x = 0;
    if (v.get_int64().get(x) == simdjson::SUCCESS) out.push_back(static_cast<int32_t>(x));
  }
  return out;
}

inline std::vector<std::string> golden_texts() {
  std::vector<std::string> texts;
  simdjson::dom::parser parser;
  for (const std::string& line : read_lines(tokenizer_data_dir() / "goldens/corpus.jsonl"))
    texts.emplace_back(parser.parse(line).value()["text"].get_string().value());
  return texts;
}

inline std::vector<GoldenCase> golden_cases(const std::string& name) {
  std::vector<GoldenCase> cases;
  simdjson::dom::parser parser;
  for (const std::string& line : read_lines(tokenizer_data_dir() / "goldens" / (name + ".jsonl"))) {
    auto doc = parser.parse(line).value();
    GoldenCase c;
    c.ids = id_list(doc["ids"].value());
    c.ids_plain = id_list(doc["ids_plain"].value());
    c.ids_nospecial = id_list(doc["ids_nospecial"].value());
    c.decoded = std::string(doc["decoded"].get_string().value());
    c.decoded_skip = std::string(doc["decoded_skip"].get_string().value());
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace ollm_test
