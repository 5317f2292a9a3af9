// Python str semantics over UTF-8: code-point indexing, Unicode whitespace, case mapping and
// the str methods templates call (strip, split, replace, title...), plus float/str repr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ollm::chat_template {

// Decodes the code point at byte i of valid UTF-8; returns its byte length.
size_t utf8_decode(std::string_view s, size_t i, uint32_t& cp);
void utf8_append(std::string& out, uint32_t cp);
bool utf8_valid(std::string_view s);
size_t utf8_length(std::string_view s);  // code points
bool is_ascii(std::string_view s);
// Byte offset of every code point, plus s.size() at the end.
std::vector<size_t> utf8_offsets(std::string_view s);

bool is_py_space(uint32_t cp);  // str.isspace()
uint32_t lower_cp(uint32_t cp);
uint32_t upper_cp(uint32_t cp);
bool is_cased(uint32_t cp);
bool is_py_alnum(uint32_t cp);  // approximates str.isalnum() / regex \w (plus '_')

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_title(std::string_view s);        // str.title()
std::string jinja_title(std::string_view s);     // the `title` filter (word starts after -, space, brackets)
// `chars` unset: whitespace; set: the code points it contains.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// sep unset: runs of whitespace. maxsplit < 0: no limit. Throws nothing; an empty sep is the caller's check.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_splitlines(std::string_view s, bool keepends);
std::string py_replace(std::string_view s, std::string_view old_text, std::string_view new_text, int64_t count);
size_t py_count(std::string_view s, std::string_view sub);
std::string py_center(std::string_view s, int64_t width, std::string_view fill);

std::string py_float_repr(double d);
std::string py_string_repr(std::string_view s);
// JSON string body and quotes as Python's json.dumps writes it.
void json_quote(std::string& out, std::string_view s, bool ensure_ascii);
std::string html_escape(std::string_view s);

}  // namespace ollm::chat_template
