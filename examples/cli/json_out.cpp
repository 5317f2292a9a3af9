// JSON emitter used by `ollm ... --json`.
#include "json_out.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace ollm_cli {

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 0x2) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}
}  // namespace

void write_json_string(std::ostream& out, std::string_view s) {
  out << '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out << "\\\""; break;
        case '\\': out << "\\\\"; break;
        case '\n': out << "\\n"; break;
        case '\r': out << "\\r"; break;
        case '\t': out << "\\t"; break;
        case '\b': out << "\\b"; break;
        case '\f': out << "\\f"; break;
        default:
          if (c < 0x20) out << fmt::format("\\u{:04x}", c);
          else out << static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out << "\\ufffd";
      ++i;
    } else {
      out.write(s.data() + i, static_cast<std::streamsize>(n));
      i += n;
    }
  }
  out << '"';
}

void JsonOut::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ << ',';
    first_.back() = false;
  }
}

JsonOut& JsonOut::begin_object() { separate(); out_ << '{'; first_.push_back(true); return *this; }
JsonOut& JsonOut::end_object() { out_ << '}'; first_.pop_back(); return *this; }
JsonOut& JsonOut::begin_array() { separate(); out_ << '['; first_.push_back(true); return *this; }
JsonOut& JsonOut::end_array() { out_ << ']'; first_.pop_back(); return *this; }

JsonOut& JsonOut::key(std::string_view k) {
  separate();
  write_json_string(out_, k);
  out_ << ':';
  after_key_ = true;
  return *this;
}

JsonOut& JsonOut::value(std::string_view s) { separate(); write_json_string(out_, s); return *this; }
JsonOut& JsonOut::value(int64_t v) { separate(); out_ << v; return *this; }
JsonOut& JsonOut::value(uint64_t v) { separate(); out_ << v; return *this; }
JsonOut& JsonOut::value(bool v) { separate(); out_ << (v ? "true" : "false"); return *this; }
JsonOut& JsonOut::null() { separate(); out_ << "null"; return *this; }

JsonOut& JsonOut::value(double v) {
  separate();
  if (std::isnan(v)) out_ << "NaN";             // not JSON, but what Python's json module writes and reads
  else if (std::isinf(v)) out_ << (v > 0 ? "Infinity" : "-Infinity");
  else {
    // Shortest representation that round-trips, kept recognisably a float ("1.0", not "1"),
    // so readers without the declared type do not turn 1.0 into an integer or -0.0 into 0.
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    out_ << s;
  }
  return *this;
}

}  // namespace ollm_cli
