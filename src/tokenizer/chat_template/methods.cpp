// Methods of str, dict and list values as the sandbox exposes them: `s.startswith(...)`,
// `d.items()`, `d.get(k)`; mutating methods are refused like ImmutableSandboxedEnvironment does.
#include <fmt/format.h>

#include <algorithm>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/py_format.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

using MethodFn = Value (*)(Evaluator& ev, const Value& self, const CallArgs& a);

Value bind(std::string name, const Value& self, MethodFn fn) {
  auto c = std::make_shared<Callable>();
  c->name = std::move(name);
  c->fn = [self, fn](Evaluator& ev, const CallArgs& a) { return fn(ev, self, a); };
  return Value::callable(std::move(c));
}

Value refuse(std::string type, std::string_view name) {
  auto c = std::make_shared<Callable>();
  c->name = fmt::format("{}.{}", type, name);
  c->fn = [type, n = std::string(name)](Evaluator& ev, const CallArgs& a) -> Value {
    ev.fail(a.pos, fmt::format("access to attribute '{}' of '{}' object is unsafe.", n, type));
  };
  return Value::callable(std::move(c));
}

Value not_implemented(std::string type, std::string_view name) {
  auto c = std::make_shared<Callable>();
  c->name = fmt::format("{}.{}", type, name);
  c->fn = [label = c->name](Evaluator&, const CallArgs& a) -> Value { unsupported(a.pos, "the method " + label + "()"); };
  return Value::callable(std::move(c));
}

const std::string& s_of(const Value& self) { return self.as_string(); }

// startswith/endswith accept a str or a tuple of str.
Value affix(Evaluator& ev, const Value& self, const CallArgs& a, bool prefix) {
  const Value* what = a.get(0, "prefix");
  if (!what) what = a.get(0, "suffix");
  if (!what) ev.fail(a.pos, "startswith/endswith needs an argument");
  if (a.positional.size() > 1) unsupported(a.pos, "start/end arguments of startswith/endswith");
  std::vector<std::string> options;
  if (what->is_string()) options.push_back(what->as_string());
  else if (what->is_list() && what->list_flavor() == ListFlavor::tuple)
    for (const auto& x : what->as_list()) {
      if (!x.is_string()) ev.fail(a.pos, fmt::format("tuple for startswith/endswith must only contain str, not {}", type_name(x)));
      options.push_back(x.as_string());
    }
  else
    ev.fail(a.pos, fmt::format("startswith/endswith first arg must be str or a tuple of str, not {}", type_name(*what)));
  const std::string& s = s_of(self);
  for (const auto& o : options) {
    if (o.size() > s.size()) continue;
    if (prefix ? s.compare(0, o.size(), o) == 0 : s.compare(s.size() - o.size(), o.size(), o) == 0) return Value(true);
  }
  return Value(false);
}

std::optional<std::string> sep_arg(Evaluator& ev, const CallArgs& a) {
  auto sep = strict_str_arg(ev, a, 0, "sep");
  if (sep && sep->empty()) ev.fail(a.pos, "empty separator");
  return sep;
}

Value strings(std::vector<std::string> parts) {
  ValueList out;
  out.reserve(parts.size());
  for (auto& p : parts) out.emplace_back(std::move(p));
  return Value::list(std::move(out));
}

Value m_startswith(Evaluator& ev, const Value& s, const CallArgs& a) { return affix(ev, s, a, true); }
Value m_endswith(Evaluator& ev, const Value& s, const CallArgs& a) { return affix(ev, s, a, false); }
// The pieces a split with an explicit separator gives, checked before splitting.
void check_pieces(Evaluator& ev, const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit, SourcePos pos) {
  ev.charge(s.size() / 64 + 1, pos);
  if (!sep) return;
  uint64_t n = py_count(s, *sep) + 1;
  if (maxsplit >= 0) n = std::min<uint64_t>(n, static_cast<uint64_t>(maxsplit) + 1);
  if (n > ev.max_items()) ev.fail(pos, fmt::format("split into {} pieces: more than {} items", n, ev.max_items()));
}

Value m_split(Evaluator& ev, const Value& s, const CallArgs& a) {
  const auto sep = sep_arg(ev, a);
  const int64_t maxsplit = int_arg(ev, a, 1, "maxsplit", -1);
  check_pieces(ev, s_of(s), sep, maxsplit, a.pos);
  return strings(py_split(s_of(s), sep, maxsplit));
}
Value m_rsplit(Evaluator& ev, const Value& s, const CallArgs& a) {
  const auto sep = sep_arg(ev, a);
  const int64_t maxsplit = int_arg(ev, a, 1, "maxsplit", -1);
  check_pieces(ev, s_of(s), sep, maxsplit, a.pos);
  return strings(py_rsplit(s_of(s), sep, maxsplit));
}
Value m_splitlines(Evaluator& ev, const Value& s, const CallArgs& a) {
  ev.charge(s_of(s).size() / 64 + 1, a.pos);
  return strings(py_splitlines(s_of(s), bool_arg(a, 0, "keepends", false)));
}
Value m_strip(Evaluator& ev, const Value& s, const CallArgs& a) {
  return Value(py_strip(s_of(s), strict_str_arg(ev, a, 0, "chars"), true, true));
}
Value m_lstrip(Evaluator& ev, const Value& s, const CallArgs& a) {
  return Value(py_strip(s_of(s), strict_str_arg(ev, a, 0, "chars"), true, false));
}
Value m_rstrip(Evaluator& ev, const Value& s, const CallArgs& a) {
  return Value(py_strip(s_of(s), strict_str_arg(ev, a, 0, "chars"), false, true));
}
Value m_replace(Evaluator& ev, const Value& s, const CallArgs& a) {
  const auto old_text = strict_str_arg(ev, a, 0, "old");
  const auto new_text = strict_str_arg(ev, a, 1, "new");
  if (!old_text || !new_text) ev.fail(a.pos, "replace() takes the old and new strings");
  const int64_t count = int_arg(ev, a, 2, "count", -1);
  check_replace_size(ev, s_of(s), *old_text, *new_text, count, "str.replace", a.pos);
  std::string out = py_replace(s_of(s), *old_text, *new_text, count);
  ev.check_size(out.size(), a.pos);
  return Value(std::move(out));
}
Value m_upper(Evaluator&, const Value& s, const CallArgs&) { return Value(py_upper(s_of(s))); }
Value m_lower(Evaluator&, const Value& s, const CallArgs&) { return Value(py_lower(s_of(s))); }
Value m_title(Evaluator&, const Value& s, const CallArgs&) { return Value(py_title(s_of(s))); }
Value m_capitalize(Evaluator&, const Value& s, const CallArgs&) { return Value(py_capitalize(s_of(s))); }
Value m_format(Evaluator& ev, const Value& s, const CallArgs& a) { return Value(py_str_format(ev, s_of(s), a)); }

Value m_join(Evaluator& ev, const Value& s, const CallArgs& a) {
  const Value* it = a.get(0, "iterable");
  if (!it) ev.fail(a.pos, "join() takes exactly one argument");
  std::string out;
  size_t i = 0;
  for (const auto& item : ev.iterate(*it, a.pos)) {
    if (!item.is_string())
      ev.fail(a.pos, fmt::format("sequence item {}: expected str instance, {} found", i, type_name(item)));
    if (i++) out += s_of(s);
    out += item.as_string();
    ev.check_size(out.size(), a.pos);
  }
  return Value(std::move(out));
}

int64_t find_cp(const std::string& s, const std::string& sub, bool reverse) {
  const size_t p = reverse ? s.rfind(sub) : s.find(sub);
  if (p == std::string::npos) return -1;
  return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, p)));
}

Value m_find(Evaluator& ev, const Value& s, const CallArgs& a) {
  if (a.positional.size() > 1) unsupported(a.pos, "start/end arguments of find");
  return Value(find_cp(s_of(s), strict_str_arg(ev, a, 0, "sub").value_or(""), false));
}
Value m_rfind(Evaluator& ev, const Value& s, const CallArgs& a) {
  if (a.positional.size() > 1) unsupported(a.pos, "start/end arguments of rfind");
  return Value(find_cp(s_of(s), strict_str_arg(ev, a, 0, "sub").value_or(""), true));
}
Value m_index(Evaluator& ev, const Value& s, const CallArgs& a) {
  const Value r = m_find(ev, s, a);
  if (r.as_int() < 0) ev.fail(a.pos, "substring not found");
  return r;
}
Value m_rindex(Evaluator& ev, const Value& s, const CallArgs& a) {
  const Value r = m_rfind(ev, s, a);
  if (r.as_int() < 0) ev.fail(a.pos, "substring not found");
  return r;
}
Value m_count(Evaluator& ev, const Value& s, const CallArgs& a) {
  if (a.positional.size() > 1) unsupported(a.pos, "start/end arguments of count");
  return Value(static_cast<int64_t>(py_count(s_of(s), strict_str_arg(ev, a, 0, "sub").value_or(""))));
}

template <bool (*Pred)(uint32_t)>
Value all_cps(Evaluator&, const Value& s, const CallArgs&) {
  const std::string& str = s_of(s);
  if (str.empty()) return Value(false);
  for (size_t i = 0; i < str.size();) {
    uint32_t cp;
    i += utf8_decode(str, i, cp);
    if (!Pred(cp)) return Value(false);
  }
  return Value(true);
}
bool cp_digit(uint32_t cp) { return cp >= '0' && cp <= '9'; }
bool cp_alpha(uint32_t cp) { return cp >= 0x80 ? is_py_alnum(cp) : ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'); }
bool cp_alnum(uint32_t cp) { return cp_alpha(cp) || cp_digit(cp); }

Value m_center(Evaluator& ev, const Value& s, const CallArgs& a) {
  const int64_t width = int_arg(ev, a, 0, "width", 0);
  const std::string fill = str_arg(a, 1, "fillchar").value_or(" ");
  if (utf8_length(fill) != 1) ev.fail(a.pos, "The fill character must be exactly one character long");
  if (width > 0) ev.check_size(static_cast<uint64_t>(width), fill.size(), fmt::format("str.center({})", width), a.pos);
  ev.charge_bytes(static_cast<size_t>(std::max<int64_t>(0, width)) * fill.size(), a.pos);
  return Value(py_center(s_of(s), width, fill));
}
Value m_removeprefix(Evaluator& ev, const Value& s, const CallArgs& a) {
  const std::string p = strict_str_arg(ev, a, 0, "prefix").value_or("");
  const std::string& str = s_of(s);
  return Value(str.compare(0, p.size(), p) == 0 ? str.substr(p.size()) : str);
}
Value m_removesuffix(Evaluator& ev, const Value& s, const CallArgs& a) {
  const std::string p = strict_str_arg(ev, a, 0, "suffix").value_or("");
  const std::string& str = s_of(s);
  if (!p.empty() && str.size() >= p.size() && str.compare(str.size() - p.size(), p.size(), p) == 0)
    return Value(str.substr(0, str.size() - p.size()));
  return Value(str);
}
Value partition(Evaluator& ev, const Value& s, const CallArgs& a, bool reverse) {
  const auto sep = sep_arg(ev, a);
  if (!sep) ev.fail(a.pos, "partition() needs a separator");
  const std::string& str = s_of(s);
  const size_t p = reverse ? str.rfind(*sep) : str.find(*sep);
  if (p == std::string::npos)
    return reverse ? Value::list({Value(""), Value(""), Value(str)}, ListFlavor::tuple)
                   : Value::list({Value(str), Value(""), Value("")}, ListFlavor::tuple);
  return Value::list({Value(str.substr(0, p)), Value(*sep), Value(str.substr(p + sep->size()))}, ListFlavor::tuple);
}
Value m_partition(Evaluator& ev, const Value& s, const CallArgs& a) { return partition(ev, s, a, false); }
Value m_rpartition(Evaluator& ev, const Value& s, const CallArgs& a) { return partition(ev, s, a, true); }

struct MethodEntry {
  std::string_view name;
  MethodFn fn;
};

constexpr MethodEntry str_methods[] = {
    {"startswith", m_startswith}, {"endswith", m_endswith},     {"split", m_split},
    {"rsplit", m_rsplit},         {"splitlines", m_splitlines}, {"strip", m_strip},
    {"lstrip", m_lstrip},         {"rstrip", m_rstrip},         {"replace", m_replace},
    {"upper", m_upper},           {"lower", m_lower},           {"title", m_title},
    {"capitalize", m_capitalize}, {"format", m_format},         {"join", m_join},
    {"find", m_find},             {"rfind", m_rfind},           {"index", m_index},
    {"rindex", m_rindex},         {"count", m_count},           {"isdigit", all_cps<cp_digit>},
    {"isdecimal", all_cps<cp_digit>}, {"isnumeric", all_cps<cp_digit>}, {"isalpha", all_cps<cp_alpha>},
    {"isalnum", all_cps<cp_alnum>}, {"isspace", all_cps<is_py_space>}, {"center", m_center},
    {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix}, {"partition", m_partition},
    {"rpartition", m_rpartition},
};

constexpr std::string_view other_str_methods[] = {
    "casefold", "encode", "expandtabs", "format_map", "isascii", "isidentifier", "islower", "isprintable",
    "istitle", "isupper", "ljust", "maketrans", "rjust", "swapcase", "translate", "zfill",
};

Value d_get(Evaluator& ev, const Value& d, const CallArgs& a) {
  const Value* key = a.get(0, "key");
  if (!key) ev.fail(a.pos, "get expected at least 1 argument, got 0");
  if (const Value* v = d.as_dict().find(*key)) return *v;
  return arg_or(a, 1, "default", Value::none());
}
Value d_items(Evaluator&, const Value& d, const CallArgs&) {
  ValueList out;
  for (const auto& [k, v] : d.as_dict().items) out.push_back(Value::list({k, v}, ListFlavor::tuple));
  return Value::list(std::move(out), ListFlavor::dict_items);
}
Value d_keys(Evaluator&, const Value& d, const CallArgs&) {
  ValueList out;
  for (const auto& kv : d.as_dict().items) out.push_back(kv.first);
  return Value::list(std::move(out), ListFlavor::dict_keys);
}
Value d_values(Evaluator&, const Value& d, const CallArgs&) {
  ValueList out;
  for (const auto& kv : d.as_dict().items) out.push_back(kv.second);
  return Value::list(std::move(out), ListFlavor::dict_values);
}
Value d_copy(Evaluator&, const Value& d, const CallArgs&) { return Value::dict(std::make_shared<Dict>(d.as_dict())); }

Value l_count(Evaluator& ev, const Value& l, const CallArgs& a) {
  const Value* x = a.get(0, "value");
  if (!x) ev.fail(a.pos, "count() takes exactly one argument");
  return Value(static_cast<int64_t>(std::count_if(l.as_list().begin(), l.as_list().end(), [&](const Value& y) { return py_equal(y, *x); })));
}
Value l_index(Evaluator& ev, const Value& l, const CallArgs& a) {
  const Value* x = a.get(0, "value");
  if (!x) ev.fail(a.pos, "index() takes at least one argument");
  const auto& items = l.as_list();
  for (size_t i = 0; i < items.size(); ++i)
    if (py_equal(items[i], *x)) return Value(static_cast<int64_t>(i));
  ev.fail(a.pos, fmt::format("{} is not in list", py_repr(*x)));
}
Value l_copy(Evaluator&, const Value& l, const CallArgs&) { return Value::list(l.as_list()); }

// Markup's methods that markupsafe wraps: string arguments are escaped first and the result is
// a Markup again (Markup('<b>').upper() is still safe; .replace('x', '<') inserts '&lt;').
bool markup_wrapped(std::string_view name) {
  for (std::string_view n : {"capitalize", "title", "lower", "upper", "replace", "lstrip", "rstrip", "center", "strip",
                             "removeprefix", "removesuffix"})
    if (n == name) return true;
  return false;
}

Value bind_markup(std::string name, const Value& self, MethodFn fn) {
  auto c = std::make_shared<Callable>();
  c->name = std::move(name);
  c->fn = [self, fn](Evaluator& ev, const CallArgs& a) {
    CallArgs escaped = a;
    for (Value& v : escaped.positional)
      if (v.is_string() && !v.is_markup()) v = Value(html_escape(v.as_string()));
    for (auto& kv : escaped.keyword)
      if (kv.second.is_string() && !kv.second.is_markup()) kv.second = Value(html_escape(kv.second.as_string()));
    Value r = fn(ev, self, escaped);
    return r.is_string() ? Value::markup(r.as_string()) : r;
  };
  return Value::callable(std::move(c));
}

}  // namespace

Value find_method(const Value& receiver, std::string_view name, SourcePos) {
  if (receiver.is_string()) {
    for (const auto& m : str_methods)
      if (m.name == name) {
        if (receiver.is_markup() && markup_wrapped(name)) return bind_markup(fmt::format("str.{}", name), receiver, m.fn);
        return bind(fmt::format("str.{}", name), receiver, m.fn);
      }
    if (std::find(std::begin(other_str_methods), std::end(other_str_methods), name) != std::end(other_str_methods))
      return not_implemented("str", name);
    return Value();
  }
  if (receiver.is_dict()) {
    if (name == "get") return bind("dict.get", receiver, d_get);
    if (name == "items") return bind("dict.items", receiver, d_items);
    if (name == "keys") return bind("dict.keys", receiver, d_keys);
    if (name == "values") return bind("dict.values", receiver, d_values);
    if (name == "copy") return bind("dict.copy", receiver, d_copy);
    if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" || name == "update")
      return refuse("dict", name);
    if (name == "fromkeys") return not_implemented("dict", name);
    return Value();
  }
  if (receiver.is_list()) {
    const auto flavor = receiver.list_flavor();
    const char* type = flavor == ListFlavor::tuple ? "tuple" : "list";
    if (flavor != ListFlavor::list && flavor != ListFlavor::tuple) return Value();
    if (name == "count") return bind(fmt::format("{}.count", type), receiver, l_count);
    if (name == "index") return bind(fmt::format("{}.index", type), receiver, l_index);
    if (flavor == ListFlavor::list) {
      if (name == "copy") return bind("list.copy", receiver, l_copy);
      if (name == "append" || name == "clear" || name == "extend" || name == "insert" || name == "pop" ||
          name == "remove" || name == "reverse" || name == "sort")
        return refuse("list", name);
    }
  }
  return Value();
}

}  // namespace ollm::chat_template
