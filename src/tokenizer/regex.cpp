// PCRE2 wrapper for the pre-tokenizer patterns (see regex.hpp for why patterns are rewritten).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <pcre2.h>

#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"

namespace ollm::tok {
namespace {

// Oniguruma's \s: the White_Space property (PCRE2 10.42 lacks U+0085 in \s).
constexpr std::string_view space_set =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// Oniguruma's \w: letters, marks, numbers and connector punctuation.
constexpr std::string_view word_set = "\\p{L}\\p{M}\\p{N}\\p{Pc}";

// Case-insensitive groups in these patterns only ever hold ASCII letters; with UTF, PCRE2
// would also let 's' match U+017F (long s) and 'k' U+212A, which Oniguruma does not here.
void append_ascii_caseless(std::string& out, std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && i + 1 < body.size()) {
      out.push_back(c);
      out.push_back(body[++i]);
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      out.push_back('[');
      out.push_back(static_cast<char>(c | 0x20));
      out.push_back(static_cast<char>(c & ~0x20));
      out.push_back(']');
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size() * 2);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (!in_class && p.substr(i, 4) == "(?i:") {
      // Find the matching ')' of a group without nested groups or classes.
      const size_t close = p.find(')', i + 4);
      const std::string_view body = close == std::string_view::npos ? std::string_view{} : p.substr(i + 4, close - i - 4);
      if (close != std::string_view::npos && body.find_first_of("([") == std::string_view::npos) {
        out.append("(?:");
        append_ascii_caseless(out, body);
        out.push_back(')');
        i = close;
        continue;
      }
    }
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's' || e == 'w') {
        const std::string_view set = e == 's' ? space_set : word_set;
        if (in_class) out.append(set);
        else out.append("[").append(set).append("]");
        ++i;
        continue;
      }
      if ((e == 'S' || e == 'W') && !in_class) {
        out.append("[^").append(e == 'S' ? space_set : word_set).append("]");
        ++i;
        continue;
      }
      out.push_back(c);
      out.push_back(e);
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < p.size() && p[i + 1] == '^') { out.push_back('^'); ++i; }
      if (i + 1 < p.size() && p[i + 1] == ']') { out.append("\\]"); ++i; }
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out.push_back(c);
  }
  return out;
}

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern, std::string_view what) : code_(std::make_unique<Code>()), source_(pattern) {
  const std::string translated = onig_to_pcre2(pattern);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset, nullptr);
  if (!code_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail(ErrorCode::invalid_model_file, "[tokenizer] {}: invalid regex '{}' at offset {}: {}", what, pattern,
         err_offset, reinterpret_cast<const char*>(msg));
  }
  // JIT is an optimisation: without it (e.g. on a platform without support) matching still works.
  pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE);
}

Regex Regex::literal(std::string_view literal, std::string_view what) {
  std::string quoted = "\\Q";
  for (size_t i = 0; i < literal.size(); ++i) {
    if (literal.substr(i, 2) == "\\E") { quoted.append("\\E\\\\E\\Q"); ++i; }
    else quoted.push_back(literal[i]);
  }
  quoted.append("\\E");
  Regex r;
  r.code_ = std::make_unique<Code>();
  r.source_ = std::string(literal);
  int err = 0;
  PCRE2_SIZE off = 0;
  r.code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(quoted.data()), quoted.size(),
                                PCRE2_UTF | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
  if (!r.code_->code) fail(ErrorCode::invalid_model_file, "[tokenizer] {}: cannot compile literal pattern", what);
  pcre2_jit_compile(r.code_->code, PCRE2_JIT_COMPLETE);
  return r;
}

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

namespace {
// Per-thread match state; the JIT stack may grow to 8 MiB for long inputs with backtracking.
struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(4, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
  MatchData() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~MatchData() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};
}  // namespace

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  out.clear();
  thread_local MatchData md;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    const int rc = pcre2_match(code_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.data, md.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      fail(ErrorCode::internal, "[tokenizer] regex '{}' failed on a {}-byte input: {}", source_, text.size(),
           reinterpret_cast<const char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
    const size_t s = ov[0], e = ov[1];
    out.emplace_back(s, e);
    if (e > s) {
      pos = e;
    } else {
      if (s >= text.size()) break;
      pos = s + utf8_len(static_cast<unsigned char>(text[s]));
    }
  }
}

}  // namespace ollm::tok
