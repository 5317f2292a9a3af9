// Decoders of the tokenizer.json pipeline (ByteLevel, Metaspace, ByteFallback, Fuse, Strip,
// Replace, WordPiece, BPEDecoder): token strings back to text, as a flat chain of stages.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/regex.hpp"

namespace ollm::tok {

struct DecoderStage {
  enum class Kind { byte_level, metaspace, byte_fallback, fuse, strip, replace, wordpiece, bpe_suffix };
  Kind kind;
  std::string a;            // metaspace replacement, strip content, replace pattern, wordpiece prefix, bpe suffix
  std::string b;            // replace content
  size_t start = 0, stop = 0;  // strip counts
  bool flag = false;        // metaspace: strips on the first token; wordpiece: cleanup
  std::shared_ptr<const Regex> regex;  // replace with a regex pattern
};

inline DecoderStage make_stage(DecoderStage::Kind kind, std::string a = {}, std::string b = {}) {
  DecoderStage s{};
  s.kind = kind;
  s.a = std::move(a);
  s.b = std::move(b);
  return s;
}

class Decoder {
 public:
  // No stages: tokens are joined with single spaces (HF's behaviour without a decoder).
  explicit Decoder(std::vector<DecoderStage> stages = {});
  bool empty() const noexcept { return stages_.empty(); }

  // Decodes `tokens`; `at_start`: they begin the text (first-token rules apply). Returns bytes
  // that may still hold invalid UTF-8 from byte-level tokens: the caller makes them valid.
  std::string decode(std::vector<std::string>& tokens, bool at_start) const;

  // For streaming: whether `decode` of consecutive chunks concatenates to the decode of all.
  bool streamable() const noexcept { return streamable_; }
  bool has_byte_fallback() const noexcept { return byte_fallback_; }
  // A Strip after Fuse removes leading characters of the whole text: the stream must not cut
  // before some output survived it.
  bool strips_text_start() const noexcept { return strips_text_start_; }

 private:
  std::vector<DecoderStage> stages_;
  bool streamable_ = true;
  bool byte_fallback_ = false;
  bool strips_text_start_ = false;
};

// Parses "<0xAB>" the way HF's ByteFallback does (u8::from_str_radix on the two characters).
std::optional<unsigned char> byte_fallback_value(std::string_view token) noexcept;

}  // namespace ollm::tok
