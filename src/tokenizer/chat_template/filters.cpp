// Jinja2's built-in filters (jinja2/filters.py) with transformers' tojson override, and the
// registry the parser resolves filter names against.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/py_format.hpp"
#include "tokenizer/chat_template/filters_seq.hpp"
#include "tokenizer/chat_template/json_dump.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

std::string text_of(const Value& v) { return py_str(v); }

Value f_default(Evaluator&, const Value& v, const CallArgs& a) {
  const Value dflt = arg_or(a, 0, "default_value", Value(""));
  const bool boolean = bool_arg(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !v.truthy())) return dflt;
  return v;
}

Value f_length(Evaluator& ev, const Value& v, const CallArgs& a) {
  switch (v.kind()) {
    case Kind::undefined: return Value(int64_t{0});
    case Kind::string: return Value(static_cast<int64_t>(utf8_length(v.as_string())));
    case Kind::list:
      if (v.is_iterator()) ev.fail(a.pos, fmt::format("object of type '{}' has no len()", type_name(v)));
      return Value(static_cast<int64_t>(v.as_list().size()));
    case Kind::dict: return Value(static_cast<int64_t>(v.as_dict().size()));
    default: ev.fail(a.pos, fmt::format("object of type '{}' has no len()", type_name(v)));
  }
}

// jinja2's filters call soft_str(), which keeps a Markup a Markup, then a str method that Markup
// wraps: the result stays marked.
Value like(const Value& input, std::string s) { return input.is_markup() ? Value::markup(std::move(s)) : Value(std::move(s)); }

Value f_string(Evaluator&, const Value& v, const CallArgs&) { return like(v, text_of(v)); }
Value f_upper(Evaluator&, const Value& v, const CallArgs&) { return like(v, py_upper(text_of(v))); }
Value f_lower(Evaluator&, const Value& v, const CallArgs&) { return like(v, py_lower(text_of(v))); }
Value f_capitalize(Evaluator&, const Value& v, const CallArgs&) { return like(v, py_capitalize(text_of(v))); }
Value f_title(Evaluator&, const Value& v, const CallArgs&) { return Value(jinja_title(text_of(v))); }
Value f_safe(Evaluator&, const Value& v, const CallArgs&) { return Value::markup(text_of(v)); }
// markupsafe.escape leaves a Markup as it is; forceescape escapes it again.
Value f_escape(Evaluator&, const Value& v, const CallArgs&) {
  return v.is_markup() ? v : Value::markup(html_escape(text_of(v)));
}
Value f_forceescape(Evaluator&, const Value& v, const CallArgs&) { return Value::markup(html_escape(text_of(v))); }

Value f_trim(Evaluator&, const Value& v, const CallArgs& a) {
  return like(v, py_strip(text_of(v), str_arg(a, 0, "chars"), true, true));
}

Value f_replace(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value* old_v = a.get(0, "old");
  const Value* new_v = a.get(1, "new");
  if (!old_v || !new_v) ev.fail(a.pos, "replace() needs the old and new strings");
  const int64_t count = int_arg(ev, a, 2, "count", -1);
  const std::string s = text_of(v), old_text = text_of(*old_v), new_text = text_of(*new_v);
  check_replace_size(ev, s, old_text, new_text, count, "replace", a.pos);
  std::string out = py_replace(s, old_text, new_text, count);
  ev.check_size(out.size(), a.pos);
  return Value(std::move(out));
}

Value f_join(Evaluator& ev, const Value& v, const CallArgs& a) {
  const std::string sep = str_arg(a, 0, "d").value_or("");
  const Value* attribute = a.get(1, "attribute");
  std::string out;
  bool first = true;
  for (const Value& item : ev.iterate(v, a.pos)) {
    if (!first) out += sep;
    first = false;
    append_str(out, attribute ? attribute_of(ev, item, *attribute, a.pos) : item);
    ev.check_size(out.size(), a.pos);
  }
  ev.charge_bytes(out.size(), a.pos);
  return Value(std::move(out));
}

Value f_first(Evaluator& ev, const Value& v, const CallArgs& a) {
  const auto items = ev.iterate(v, a.pos);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Evaluator& ev, const Value& v, const CallArgs& a) {
  const auto items = ev.iterate(v, a.pos);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_list(Evaluator& ev, const Value& v, const CallArgs& a) { return Value::list(ev.iterate(v, a.pos)); }

bool parse_py_int(std::string_view text, int64_t base, int64_t& out) {
  std::string s = py_strip(std::string(text), std::nullopt, true, true);
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
        std::isalnum(static_cast<unsigned char>(s[i + 1])))
      continue;
    digits += s[i];
  }
  if (digits.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
  if (errno == ERANGE || *end != '\0' || end == digits.c_str()) return false;
  if (digits[0] == '+' && digits.size() > 1 && (digits[1] == '+' || digits[1] == '-')) return false;
  out = v;
  return true;
}

bool parse_py_float(std::string_view text, double& out) {
  const std::string s = py_strip(std::string(text), std::nullopt, true, true);
  if (s.empty()) return false;
  std::string lower = py_lower(s);
  const bool neg = !lower.empty() && lower[0] == '-';
  const std::string body = (!lower.empty() && (lower[0] == '-' || lower[0] == '+')) ? lower.substr(1) : lower;
  if (body == "inf" || body == "infinity") {
    out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    out = NAN;
    return true;
  }
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-' || c == '_'))
      return false;
  std::string clean;
  for (char c : s)
    if (c != '_') clean += c;
  char* end = nullptr;
  out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

Value f_int(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value dflt = arg_or(a, 0, "default", Value(int64_t{0}));
  const int64_t base = int_arg(ev, a, 1, "base", 10);
  int64_t i;
  double d;
  switch (v.kind()) {
    case Kind::integer:
    case Kind::boolean: return Value(v.integer_value());
    case Kind::floating:
      if (std::isnan(v.as_float())) return dflt;
      if (std::isinf(v.as_float()) || std::fabs(v.as_float()) >= 9.2e18) unsupported(a.pos, "int of a huge float");
      return Value(static_cast<int64_t>(v.as_float()));
    case Kind::string:
      if (parse_py_int(v.as_string(), base, i)) return Value(i);
      if (parse_py_float(v.as_string(), d) && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value(static_cast<int64_t>(d));
      return dflt;
    default: return dflt;
  }
}

Value f_float(Evaluator&, const Value& v, const CallArgs& a) {
  const Value dflt = arg_or(a, 0, "default", Value(0.0));
  double d;
  if (v.is_number()) return Value(v.number());
  if (v.is_string() && parse_py_float(v.as_string(), d)) return Value(d);
  return dflt;
}

Value f_abs(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (v.kind() == Kind::floating) return Value(std::fabs(v.as_float()));
  if (v.kind() == Kind::integer || v.kind() == Kind::boolean) {
    if (v.integer_value() == INT64_MIN) unsupported(a.pos, "abs of the smallest 64-bit integer");
    return Value(std::abs(v.integer_value()));
  }
  if (v.is_undefined()) ev.fail_undefined(v, a.pos);
  ev.fail(a.pos, fmt::format("bad operand type for abs(): '{}'", type_name(v)));
}

double round_half_even(double x, int64_t digits) {
  if (!std::isfinite(x)) return x;
  if (digits >= 0) {
    if (digits > 300) return x;
    // printf rounds the exact binary value correctly, ties to even: what Python's round() does.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(digits), x);
    return std::strtod(buf, nullptr);
  }
  const double p = std::pow(10.0, static_cast<double>(-digits));
  return std::nearbyint(x / p) * p;
}

Value f_round(Evaluator& ev, const Value& v, const CallArgs& a) {
  const int64_t precision = int_arg(ev, a, 0, "precision", 0);
  const std::string method = str_arg(a, 1, "method").value_or("common");
  if (method != "common" && method != "ceil" && method != "floor")
    ev.fail(a.pos, "method must be 'common', 'ceil' or 'floor'");
  if (v.is_undefined()) ev.fail_undefined(v, a.pos);
  if (!v.is_number()) ev.fail(a.pos, fmt::format("type {} doesn't define __round__ method", type_name(v)));
  if (method == "common") {
    if (v.kind() != Kind::floating) return Value(v.integer_value());  // round(int, n) stays an int
    return Value(round_half_even(v.as_float(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double x = v.number() * p;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

Value f_tojson(Evaluator& ev, const Value& v, const CallArgs& a) {
  JsonDumpOptions o;
  o.ensure_ascii = bool_arg(a, 0, "ensure_ascii", false);
  if (const Value* indent = a.get(1, "indent"); indent && !indent->is_none()) {
    if (indent->is_string()) o.indent = indent->as_string();
    else {
      const int64_t width = std::max<int64_t>(0, int_arg(ev, a, 1, "indent", 0));
      ev.check_size(static_cast<uint64_t>(width), 1, fmt::format("tojson(indent={})", width), a.pos);
      o.indent = std::string(static_cast<size_t>(width), ' ');
    }
  }
  if (const Value* seps = a.get(2, "separators"); seps && !seps->is_none()) {
    const auto parts = ev.iterate(*seps, a.pos);
    if (parts.size() != 2) ev.fail(a.pos, "tojson separators must be a pair (item_separator, key_separator)");
    o.item_separator = py_str(parts[0]);
    o.key_separator = py_str(parts[1]);
  }
  o.sort_keys = bool_arg(a, 3, "sort_keys", false);
  std::string out = json_dumps(ev, v, o, a.pos);
  ev.charge_bytes(out.size(), a.pos);
  return Value(std::move(out));
}

Value f_indent(Evaluator& ev, const Value& v, const CallArgs& a) {
  std::string indention;
  const Value* width = a.get(0, "width");
  if (width && width->is_string()) {
    indention = width->as_string();
  } else {
    // The width is checked before the indentation string exists (indent(10000000000) allocated it).
    const int64_t w = std::max<int64_t>(0, int_arg(ev, a, 0, "width", 4));
    ev.check_size(static_cast<uint64_t>(w), 1, fmt::format("indent({})", w), a.pos);
    indention = std::string(static_cast<size_t>(w), ' ');
  }
  const bool first = bool_arg(a, 1, "first", false);
  const bool blank = bool_arg(a, 2, "blank", false);
  const std::string s = text_of(v) + "\n";  // jinja2's quirk so that splitlines() sees the last line
  const auto lines = py_splitlines(s, false);
  // Every line may get the indentation: the result's size, before building it.
  const std::string what = fmt::format("indent of {} lines by {} bytes", lines.size(), indention.size());
  ev.check_size(lines.size() + 1, indention.size(), what, a.pos);
  const size_t bound = s.size() + (lines.size() + 1) * indention.size();
  ev.check_size(1, bound, what, a.pos);
  ev.charge_bytes(bound, a.pos);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
  }
  if (first) rv = indention + rv;
  ev.check_size(rv.size(), a.pos);
  return like(v, std::move(rv));
}

Value f_center(Evaluator& ev, const Value& v, const CallArgs& a) {
  const int64_t width = int_arg(ev, a, 0, "width", 80);
  if (width > 0) ev.check_size(static_cast<uint64_t>(width), 1, fmt::format("center({})", width), a.pos);
  ev.charge_bytes(static_cast<size_t>(std::max<int64_t>(0, width)), a.pos);
  return like(v, py_center(text_of(v), width, " "));
}

Value f_wordcount(Evaluator&, const Value& v, const CallArgs&) {
  const std::string s = text_of(v);
  int64_t n = 0;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_decode(s, i, cp);
    const bool w = is_py_alnum(cp);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

Value f_truncate(Evaluator& ev, const Value& v, const CallArgs& a) {
  const std::string s = text_of(v);
  const int64_t length = int_arg(ev, a, 0, "length", 255);
  const bool killwords = bool_arg(a, 1, "killwords", false);
  const std::string end = str_arg(a, 2, "end").value_or("...");
  const int64_t leeway = int_arg(ev, a, 3, "leeway", 5);
  const auto end_len = static_cast<int64_t>(utf8_length(end));
  if (length < end_len) ev.fail(a.pos, fmt::format("expected length >= {}, got {}", end_len, length));
  if (leeway < 0) ev.fail(a.pos, fmt::format("expected leeway >= 0, got {}", leeway));
  const auto offs = utf8_offsets(s);
  const auto n = static_cast<int64_t>(offs.size() - 1);
  if (n <= length + leeway) return Value(s);
  std::string head = s.substr(0, offs[static_cast<size_t>(length - end_len)]);
  if (killwords) return Value(head + end);
  const size_t sp = head.rfind(' ');
  if (sp != std::string::npos) head = head.substr(0, sp);
  return Value(head + end);
}

Value f_reverse(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (v.is_string()) {
    const std::string& s = v.as_string();
    const auto offs = utf8_offsets(s);
    std::string out;
    for (size_t k = offs.size() - 1; k > 0; --k) out += s.substr(offs[k - 1], offs[k] - offs[k - 1]);
    return Value(std::move(out));
  }
  auto items = ev.iterate(v, a.pos);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items), ListFlavor::reverse_iterator);
}

Value f_items(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (v.is_undefined()) return Value::list({});
  if (!v.is_dict()) ev.fail(a.pos, "Can only get item pairs from a mapping.");
  ValueList out;
  for (const auto& [k, val] : v.as_dict().items) out.push_back(Value::list({k, val}, ListFlavor::tuple));
  return Value::list(std::move(out), ListFlavor::dict_items);
}

Value f_attr(Evaluator& ev, const Value& v, const CallArgs& a) {
  const auto name = str_arg(a, 0, "name");
  if (!name) ev.fail(a.pos, "attr() needs a name");
  if (v.is_dict()) {  // Python's getattr(): methods only, never the dict's keys
    Value m = find_method(v, *name, a.pos);
    return m.is_undefined() ? Value::undefined(fmt::format("'dict object' has no attribute '{}'", *name)) : m;
  }
  return ev.get_attr(v, *name, a.pos);
}

Value f_format(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (!a.positional.empty() && !a.keyword.empty())
    ev.fail(a.pos, "can't handle positional and keyword arguments at the same time");
  if (!a.keyword.empty()) {
    auto d = std::make_shared<Dict>();
    for (const auto& [k, val] : a.keyword) d->set(Value(k), val);
    return percent_format(ev, v, Value::dict(d), a.pos);
  }
  return percent_format(ev, v, Value::list(a.positional, ListFlavor::tuple), a.pos);
}

constexpr FilterEntry filters[] = {
    {"abs", f_abs},           {"attr", f_attr},
    {"batch", f_batch},       {"capitalize", f_capitalize},
    {"center", f_center},     {"count", f_length},
    {"d", f_default},         {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape},
    {"escape", f_escape},     {"first", f_first},
    {"float", f_float},       {"forceescape", f_forceescape},
    {"format", f_format},     {"indent", f_indent},
    {"int", f_int},           {"items", f_items},
    {"join", f_join},         {"last", f_last},
    {"length", f_length},     {"list", f_list},
    {"lower", f_lower},       {"map", f_map},
    {"max", f_max},           {"min", f_min},
    {"reject", f_reject},     {"rejectattr", f_rejectattr},
    {"replace", f_replace},   {"reverse", f_reverse},
    {"round", f_round},       {"safe", f_safe},
    {"select", f_select},     {"selectattr", f_selectattr},
    {"sort", f_sort},         {"string", f_string},
    {"sum", f_sum},           {"title", f_title},
    {"tojson", f_tojson},     {"trim", f_trim},
    {"truncate", f_truncate}, {"unique", f_unique},
    {"upper", f_upper},       {"wordcount", f_wordcount},
};

constexpr std::string_view other_jinja_filters[] = {
    "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
};

}  // namespace

const FilterEntry* find_filter(std::string_view name) {
  for (const auto& f : filters)
    if (f.name == name) return &f;
  return nullptr;
}

bool jinja_has_filter(std::string_view name) {
  return std::find(std::begin(other_jinja_filters), std::end(other_jinja_filters), name) !=
         std::end(other_jinja_filters);
}

FilterFn filter_function(std::string_view name) {
  const FilterEntry* f = find_filter(name);
  return f ? f->fn : nullptr;
}

}  // namespace ollm::chat_template
