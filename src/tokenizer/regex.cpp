// PCRE2 wrapper for the pre-tokenizer patterns (see regex.hpp for why patterns are rewritten).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pcre2.h>

#include <vector>

#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"

namespace ollm::tok {
namespace {

// Oniguruma's \s: the White_Space property (PCRE2 10.42 lacks U+0085 in \s).
constexpr std::string_view space_set =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// Oniguruma's \w as HF tokenizers' build matches it (measured over every code point): in a class,
// Alphabetic, marks, decimal digits and connector punctuation (not the other numbers, e.g. U+3192);
// outside a class, and for \b, also the Latin-1 numbers its byte table calls word characters.
constexpr std::string_view word_set = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
constexpr std::string_view word_set_bare = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}";

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

// Oniguruma's \b and \B: boundaries between its \w and not-\w (PCRE2's UCP \w lacks the marks
// and most connector punctuation, so "1" before U+FE0F would end a word there and not here).
const std::string& word_boundary(bool negated) {
  static const std::string b = fmt::format("(?:(?<=[{0}])(?![{0}])|(?<![{0}])(?=[{0}]))", word_set_bare);
  static const std::string nb = fmt::format("(?:(?<=[{0}])(?=[{0}])|(?<![{0}])(?![{0}]))", word_set_bare);
  return negated ? nb : b;
}

// Whether PCRE2 knows `name` as a script (it then accepts \p{sc:name}).
bool is_pcre2_script(std::string_view name) {
  const std::string probe = fmt::format("\\p{{sc:{}}}", name);
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(probe.data()), probe.size(), PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  pcre2_code_free(code);
  return code != nullptr;
}

// Appends the rewrite of the escape at p[i] (a backslash); returns the index of its last character.
size_t append_escape(std::string_view p, size_t i, bool in_class, std::string& out) {
  if (i + 1 >= p.size()) {
    out.push_back(p[i]);
    return i;
  }
  const char e = p[i + 1];
  if (e == 's' || e == 'w') {
    if (in_class) out.append(e == 's' ? space_set : word_set);
    else out.append("[").append(e == 's' ? space_set : word_set_bare).append("]");
    return i + 1;
  }
  if ((e == 'S' || e == 'W') && !in_class) {  // in a class: see append_class
    out.append("[^").append(e == 'S' ? space_set : word_set_bare).append("]");
    return i + 1;
  }
  if ((e == 'b' || e == 'B') && !in_class) {  // in a class \b is a backspace in both
    out.append(word_boundary(e == 'B'));
    return i + 1;
  }
  if ((e == 'p' || e == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
    // Oniguruma's \p{Han} is the Script property; PCRE2's (10.40+) is Script_Extensions, which
    // also holds e.g. U+3001 (ideographic comma): name the script property explicitly.
    const size_t close = p.find('}', i + 3);
    if (close != std::string_view::npos) {
      std::string_view name = p.substr(i + 3, close - i - 3);
      const bool caret = !name.empty() && name[0] == '^';
      if (caret) name.remove_prefix(1);
      out.append(p.substr(i, 3));
      if (caret) out.push_back('^');
      if (is_pcre2_script(name)) out.append("sc:");
      out.append(name).push_back('}');
      return close;
    }
  }
  out.push_back(p[i]);
  out.push_back(e);
  return i + 1;
}

constexpr int max_class_depth = 64;

// Appends the rewrite of the bracket expression starting at p[i] ('['); returns the index of its
// closing ']'. A flat class stays a PCRE2 class. Oniguruma also nests classes (union) and
// intersects them with && (e.g. Kimi-K2's [\p{Lu}...\p{M}&&[^\p{Han}]]), which PCRE2 lacks:
// those become single-code-point alternatives and lookaheads. An empty && operand is the empty
// set, as in Oniguruma ([a&&] matches nothing). Nested classes recurse, and a tokenizer.json is
// untrusted input: the depth is bounded.
size_t append_class(std::string_view p, size_t i, std::string& out, int depth = 0) {
  if (depth >= max_class_depth)
    fail(ErrorCode::invalid_model_file, "[tokenizer] regex '{}': character classes nested more than {} deep at offset {}",
         p.size() > 200 ? std::string(p.substr(0, 200)) + "..." : std::string(p), max_class_depth, i);
  size_t j = i + 1;
  const bool negated = j < p.size() && p[j] == '^';
  if (negated) ++j;
  std::vector<std::string> operands;  // each matches one code point
  std::string flat;                   // the current operand's flat members, as a PCRE2 class body
  std::vector<std::string> nested;    // the current operand's nested classes
  bool structured = false;
  auto end_operand = [&] {
    std::vector<std::string> alts;
    if (!flat.empty()) alts.push_back("[" + flat + "]");
    alts.insert(alts.end(), nested.begin(), nested.end());
    if (alts.empty()) operands.emplace_back("(?!)");
    else if (alts.size() == 1) operands.push_back(alts[0]);
    else operands.push_back(fmt::format("(?:{})", fmt::join(alts, "|")));
    flat.clear();
    nested.clear();
  };
  // A ']' right after '[' or '[^' is a literal member.
  if (j < p.size() && p[j] == ']') {
    flat.append("\\]");
    ++j;
  }
  for (; j < p.size() && p[j] != ']'; ++j) {
    const char c = p[j];
    if (c == '\\' && j + 1 < p.size() && (p[j + 1] == 'S' || p[j + 1] == 'W')) {
      // A complement inside a class: PCRE2's own \S and \W are other sets, so a nested [^...].
      nested.push_back(fmt::format("[^{}]", p[j + 1] == 'S' ? space_set : word_set));
      structured = true;
      ++j;
    } else if (c == '\\') {
      j = append_escape(p, j, true, flat);
    } else if (c == '[' && p.substr(j, 2) == "[:") {  // POSIX bracket: PCRE2 has them too
      const size_t close = p.find(":]", j + 2);
      const size_t last = close == std::string_view::npos ? p.size() - 1 : close + 1;
      flat.append(p.substr(j, last - j + 1));
      j = last;
    } else if (c == '[') {
      std::string sub;
      j = append_class(p, j, sub, depth + 1);
      nested.push_back(std::move(sub));
      structured = true;
    } else if (c == '&' && j + 1 < p.size() && p[j + 1] == '&') {
      end_operand();
      structured = true;
      ++j;
    } else {
      flat.push_back(c);
    }
  }
  if (!structured || j >= p.size()) {  // unterminated: PCRE2 reports it on the flat form
    out.append(negated ? "[^" : "[").append(flat);
    if (j < p.size()) out.push_back(']');
    return j;
  }
  end_operand();
  std::string one;
  if (operands.size() == 1) {
    one = operands[0];
  } else {
    one = "(?:";
    for (size_t k = 0; k + 1 < operands.size(); ++k) one.append("(?=").append(operands[k]).append(")");
    one.append(operands.back()).append(")");
  }
  if (negated) one = "(?:(?!" + one + ")(?s:.))";
  out.append(one);
  return j;
}

}  // namespace

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size() * 2);
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (p.substr(i, 4) == "(?i:") {
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
    if (c == '\\') i = append_escape(p, i, false, out);
    else if (c == '[') i = append_class(p, i, out);
    else out.push_back(c);
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
