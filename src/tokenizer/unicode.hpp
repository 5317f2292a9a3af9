// UTF-8 and Unicode helpers for the tokenizer: decoding, repair of invalid input, the
// character classes Rust's `char` methods define (HF tokenizers is written in Rust), and
// normalization forms through utf8proc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ollm::tok {

// Decodes one code point at s[i] (s must be valid UTF-8) and advances i.
inline char32_t next_cp(std::string_view s, size_t& i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { ++i; return c; }
  if (c < 0xE0) { char32_t r = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu); i += 2; return r; }
  if (c < 0xF0) {
    char32_t r = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return r;
  }
  char32_t r = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
  i += 4;
  return r;
}

// Byte length of the UTF-8 sequence that starts with lead byte c (1 for invalid leads).
inline size_t utf8_len(unsigned char c) noexcept {
  return c < 0x80 ? 1 : c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
}

void append_utf8(std::string& out, char32_t cp);

// Length of the longest valid UTF-8 prefix of s.
size_t valid_utf8_prefix(std::string_view s) noexcept;

// Rust's String::from_utf8_lossy: every maximal invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// Appends the lossy conversion of `bytes` but keeps a trailing sequence that may still be
// completed by more bytes in `tail` (for streaming).
void utf8_lossy_streaming(std::string_view bytes, std::string& out, std::string& tail);

// Rust char::is_whitespace (Unicode White_Space).
bool is_whitespace(char32_t c) noexcept;
// Rust char::is_alphanumeric, approximated by the general categories L* and N*.
bool is_alphanumeric(char32_t c) noexcept;
// Rust char::is_numeric: Nd, Nl, No.
bool is_numeric(char32_t c) noexcept;
// Unicode general category P* (Pc Pd Ps Pe Pi Pf Po).
bool is_punctuation(char32_t c) noexcept;
// HF's BERT punctuation: ASCII punctuation (incl. symbols like $ + < = > ^ ` | ~) or P*.
bool is_bert_punctuation(char32_t c) noexcept;
// HF BertNormalizer's control characters: Cc, Cf, Co except \t \n \r.
bool is_bert_control(char32_t c) noexcept;
bool is_chinese_char(char32_t c) noexcept;
bool is_mark_nonspacing(char32_t c) noexcept;  // Mn

// Rust char::to_lowercase appended as UTF-8 (full mapping: U+0130 becomes "i\u0307").
void append_lowercase(std::string& out, char32_t c);

enum class NormalForm { nfc, nfd, nfkc, nfkd };
// Normalizes valid UTF-8; returns false (out untouched) when the input is already ASCII.
bool normalize_form(std::string_view in, NormalForm form, std::string& out);

// GPT-2 byte-level alphabet: each byte maps to one printable code point.
struct ByteLevelTable {
  std::string byte_to_utf8[256];   // UTF-8 of the code point for each byte
  int16_t cp_to_byte[0x180];       // inverse for code points < 0x180, -1 elsewhere
};
const ByteLevelTable& byte_level_table();

}  // namespace ollm::tok
