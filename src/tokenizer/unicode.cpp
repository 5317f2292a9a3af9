// UTF-8 repair and Unicode classes for the tokenizer (utf8proc underneath).
#include "tokenizer/unicode.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace ollm::tok {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

// Valid range of the second byte for a lead byte (the Unicode "well-formed" table);
// {0, 0} for bytes that cannot start a sequence.
struct SecondRange { unsigned char lo, hi; size_t len; };
SecondRange second_range(unsigned char c) noexcept {
  if (c >= 0xC2 && c <= 0xDF) return {0x80, 0xBF, 2};
  if (c == 0xE0) return {0xA0, 0xBF, 3};
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return {0x80, 0xBF, 3};
  if (c == 0xED) return {0x80, 0x9F, 3};
  if (c == 0xF0) return {0x90, 0xBF, 4};
  if (c >= 0xF1 && c <= 0xF3) return {0x80, 0xBF, 4};
  if (c == 0xF4) return {0x80, 0x8F, 4};
  return {0, 0, 0};
}

// Examines the sequence at s[i]: returns its byte length when valid (>0); otherwise sets
// `bad` to the length of the maximal invalid subpart and `truncated` when the input ended
// inside a sequence that could still be valid.
size_t check_sequence(std::string_view s, size_t i, size_t& bad, bool& truncated) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  truncated = false;
  if (c < 0x80) return 1;
  const SecondRange r = second_range(c);
  if (r.len == 0) { bad = 1; return 0; }
  size_t k = 1;
  for (; k < r.len; ++k) {
    if (i + k >= s.size()) { truncated = true; bad = k; return 0; }
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= r.lo && b <= r.hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) { bad = k; return 0; }
  }
  return r.len;
}

utf8proc_category_t category(char32_t c) noexcept {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t valid_utf8_prefix(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    size_t bad = 0;
    bool truncated = false;
    const size_t n = check_sequence(s, i, bad, truncated);
    if (n == 0) return i;
    i += n;
  }
  return i;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out, tail;
  utf8_lossy_streaming(bytes, out, tail);
  if (!tail.empty()) out.append(replacement);  // a truncated sequence is one maximal subpart
  return out;
}

void utf8_lossy_streaming(std::string_view bytes, std::string& out, std::string& tail) {
  size_t i = 0;
  out.reserve(out.size() + bytes.size());
  while (i < bytes.size()) {
    const size_t valid = valid_utf8_prefix(bytes.substr(i));
    out.append(bytes.substr(i, valid));
    i += valid;
    if (i >= bytes.size()) break;
    size_t bad = 0;
    bool truncated = false;
    check_sequence(bytes, i, bad, truncated);
    if (truncated) {
      tail.assign(bytes.substr(i));
      return;
    }
    out.append(replacement);
    i += bad;
  }
  tail.clear();
}

bool is_whitespace(char32_t c) noexcept {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_alphanumeric(char32_t c) noexcept {
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
  const auto k = category(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
         (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

bool is_numeric(char32_t c) noexcept {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t c) noexcept {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_bert_punctuation(char32_t c) noexcept {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return is_punctuation(c);
}

bool is_bert_control(char32_t c) noexcept {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const auto k = category(c);
  // HF's category tables count no character as unassigned (Cn): those are kept.
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO;
}

bool is_chinese_char(char32_t c) noexcept {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_mark_nonspacing(char32_t c) noexcept { return c >= 0x300 && category(c) == UTF8PROC_CATEGORY_MN; }

void append_lowercase(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return;
  }
  if (c == 0x130) {  // the one unconditional multi-character lowercase mapping (SpecialCasing.txt)
    out.append("i\xCC\x87");
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

bool normalize_form(std::string_view in, NormalForm form, std::string& out) {
  bool ascii = true;
  for (char ch : in)
    if (static_cast<unsigned char>(ch) >= 0x80) { ascii = false; break; }
  if (ascii) return false;  // every normal form of ASCII is itself
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::nfc: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::nfd: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::nfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::nfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* result = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(in.data()),
                              static_cast<utf8proc_ssize_t>(in.size()), &result,
                              static_cast<utf8proc_option_t>(options));
  if (n < 0) {  // cannot happen for valid UTF-8; keep the text rather than fail
    std::free(result);
    return false;
  }
  out.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  std::free(result);
  return true;
}

const ByteLevelTable& byte_level_table() {
  static const ByteLevelTable table = [] {
    ByteLevelTable t;
    for (auto& v : t.cp_to_byte) v = -1;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      append_utf8(t.byte_to_utf8[b], cp);
      t.cp_to_byte[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

}  // namespace ollm::tok
