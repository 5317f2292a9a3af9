// The pre-tokenizer regex engine: PCRE2 (UTF + UCP, JIT-compiled) behind a small interface,
// with the pattern rewritten so that it matches what Oniguruma (used by HF tokenizers) matches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ollm::tok {

class Regex {
 public:
  // Throws invalid_model_file naming `what` and the PCRE2 message when the pattern is invalid.
  Regex(std::string_view pattern, std::string_view what);
  // A pattern matching `literal` exactly.
  static Regex literal(std::string_view literal, std::string_view what);
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // All non-overlapping leftmost matches [start, end) in valid UTF-8 `text`, as
  // Oniguruma's find_iter reports them (an empty match advances by one character).
  // Thread-safe: the compiled pattern is shared, match data is per thread.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  const std::string& source() const noexcept { return source_; }

 private:
  Regex() = default;
  struct Code;
  std::unique_ptr<Code> code_;
  std::string source_;
};

// Rewrites an Oniguruma (Ruby syntax) pattern into PCRE2 syntax with the same meaning:
// \s, \w, \b and \B take Oniguruma's Unicode sets, \p{Script} means the Script property (not
// Script_Extensions), nested classes and && intersections become lookaheads, and (?i:...) keeps
// to ASCII case folding.
std::string onig_to_pcre2(std::string_view pattern);

}  // namespace ollm::tok
