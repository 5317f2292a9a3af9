// libFuzzer target: arbitrary bytes (valid UTF-8 or not) encoded, decoded and streamed with one
// tokenizer, loaded once from $OLLM_FUZZ_TOKENIZER (a tokenizer.json or GGUF) or else the small
// committed tests/data/tokenizers/fuzz/tokenizer.json. The first byte picks the flags.
// Invariants: no crash, only ollm::Error escapes, decode output is valid UTF-8, and the
// streaming detokenizer's pieces concatenate to decode().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

#ifndef OLLM_TEST_DATA
#define OLLM_TEST_DATA "tests/data"
#endif

namespace {

const ollm::Tokenizer& fuzz_tokenizer() {
  static const ollm::Tokenizer tok = [] {
    const char* env = std::getenv("OLLM_FUZZ_TOKENIZER");
    const std::string path = env && *env ? env : OLLM_TEST_DATA "/tokenizers/fuzz/tokenizer.json";
    if (path.size() > 5 && path.ends_with(".gguf")) return ollm::Tokenizer::from_gguf(ollm::GgufFile::open(path));
    return ollm::Tokenizer::from_json_files(path);
  }();
  return tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ollm::Tokenizer& tok = fuzz_tokenizer();
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool add_special = flags & 1, parse_special = flags & 2, skip_special = flags & 4;
  const auto ids = tok.encode(text, add_special, parse_special);
  for (int32_t id : ids)
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) __builtin_trap();
  const std::string decoded = tok.decode(ids, skip_special);
  if (ollm::tok::valid_utf8_prefix(decoded) != decoded.size()) __builtin_trap();
  ollm::StreamingDetokenizer stream(tok, skip_special);
  std::string joined;
  for (int32_t id : ids) joined += stream.step(id);
  joined += stream.finish();
  if (joined != decoded) __builtin_trap();
  // Arbitrary ids (also out of range) decode without failing.
  std::vector<int32_t> raw;
  for (size_t i = 1; i + 4 <= size && raw.size() < 64; i += 4) {
    int32_t v;
    __builtin_memcpy(&v, data + i, 4);
    raw.push_back(v % static_cast<int32_t>(tok.vocab_size() + 8));
  }
  const std::string d2 = tok.decode(raw, skip_special);
  if (ollm::tok::valid_utf8_prefix(d2) != d2.size()) __builtin_trap();
  return 0;
}
