// Minimal streaming JSON emitter for the CLI's --json output (RFC 8259 strings, shortest
// round-trip numbers). Invalid UTF-8 in strings is written as \ufffd so the output stays valid JSON.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace ollm_cli {

class JsonOut {
 public:
  explicit JsonOut(std::ostream& out) : out_(out) {}
  JsonOut& begin_object();
  JsonOut& end_object();
  JsonOut& begin_array();
  JsonOut& end_array();
  JsonOut& key(std::string_view k);
  JsonOut& value(std::string_view s);
  JsonOut& value(const char* s) { return value(std::string_view(s)); }
  JsonOut& value(int64_t v);
  JsonOut& value(uint64_t v);
  JsonOut& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonOut& value(unsigned v) { return value(static_cast<uint64_t>(v)); }
  JsonOut& value(double v);
  JsonOut& value(bool v);
  JsonOut& null();

 private:
  void separate();
  std::ostream& out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

void write_json_string(std::ostream& out, std::string_view s);

}  // namespace ollm_cli
