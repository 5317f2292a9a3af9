// libFuzzer target: arbitrary bytes as a tokenizer.json. Loading either succeeds or throws
// ollm::Error (never crashes, hangs or throws anything else); a loaded tokenizer then encodes and
// decodes a fixed text. Seeds: tests/data/tokenizers/fuzz/tokenizer.json, tests/data/tokenizers/minilm/tokenizer.json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ollm/error.hpp"
#include "ollm/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = ollm::Tokenizer::from_json(json, {}, "fuzz.json");
    const auto ids = tok.encode("Hello wörld <|eot|> 123 日本語 \xF0\x9F\x91\x8D  \n", true, true);
    (void)tok.decode(ids, false);
    (void)tok.decode(ids, true);
    ollm::StreamingDetokenizer stream(tok);
    for (int32_t id : ids) (void)stream.step(id);
    (void)stream.finish();
  } catch (const ollm::Error&) {
  }
  return 0;
}
