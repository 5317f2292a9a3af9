// Jinja2's built-in tests (jinja2/tests.py): `x is defined`, `x is string`, `x is divisibleby 3`...
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/filters_seq.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

const Value& other(Evaluator& ev, const CallArgs& a) {
  if (a.positional.empty() && a.keyword.empty()) ev.fail(a.pos, "this test needs an argument");
  return a.positional.empty() ? a.keyword.front().second : a.positional.front();
}

bool integral(Evaluator& ev, const Value& v, SourcePos pos, int64_t& out) {
  if (v.is_undefined()) ev.fail_undefined(v, pos);
  if (v.kind() == Kind::integer || v.kind() == Kind::boolean) {
    out = v.integer_value();
    return true;
  }
  if (v.kind() == Kind::floating) return false;
  ev.fail(pos, fmt::format("unsupported operand type(s) for %: '{}' and 'int'", type_name(v)));
}

bool t_defined(Evaluator&, const Value& v, const CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Evaluator&, const Value& v, const CallArgs&) { return v.is_undefined(); }
bool t_none(Evaluator&, const Value& v, const CallArgs&) { return v.is_none(); }
bool t_boolean(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::boolean; }
bool t_true(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::boolean && v.as_bool(); }
bool t_false(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::boolean && !v.as_bool(); }
bool t_integer(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::integer; }
bool t_float(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::floating; }
bool t_number(Evaluator&, const Value& v, const CallArgs&) { return v.is_number(); }
bool t_string(Evaluator&, const Value& v, const CallArgs&) { return v.is_string(); }
bool t_mapping(Evaluator&, const Value& v, const CallArgs&) { return v.is_dict(); }
bool t_callable(Evaluator&, const Value& v, const CallArgs&) { return v.kind() == Kind::callable; }
bool t_escaped(Evaluator&, const Value&, const CallArgs&) { return false; }
bool t_iterable(Evaluator&, const Value& v, const CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(Evaluator&, const Value& v, const CallArgs&) {
  return v.is_string() || (v.is_list() && !v.is_iterator()) || v.is_dict();  // generators have no len()
}

bool t_lower(Evaluator&, const Value& v, const CallArgs&) {
  const std::string s = py_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_decode(s, i, cp);
    if (lower_cp(cp) != cp) return false;
    cased = cased || is_cased(cp);
  }
  return cased;
}

bool t_upper(Evaluator&, const Value& v, const CallArgs&) {
  const std::string s = py_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_decode(s, i, cp);
    if (upper_cp(cp) != cp || cp == 0xDF) return false;
    cased = cased || is_cased(cp);
  }
  return cased;
}

bool t_odd(Evaluator& ev, const Value& v, const CallArgs& a) {
  int64_t i;
  if (!integral(ev, v, a.pos, i)) return std::fmod(v.as_float(), 2.0) != 0 && std::fabs(std::fmod(v.as_float(), 2.0)) == 1;
  return (i % 2) != 0;
}

bool t_even(Evaluator& ev, const Value& v, const CallArgs& a) {
  int64_t i;
  if (!integral(ev, v, a.pos, i)) return std::fmod(v.as_float(), 2.0) == 0;
  return (i % 2) == 0;
}

bool t_divisibleby(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value& num = other(ev, a);
  if (!v.is_number() || !num.is_number()) {
    if (v.is_undefined()) ev.fail_undefined(v, a.pos);
    ev.fail(a.pos, fmt::format("unsupported operand type(s) for %: '{}' and '{}'", type_name(v), type_name(num)));
  }
  if (num.number() == 0) ev.fail(a.pos, "integer division or modulo by zero");
  if (v.kind() == Kind::floating || num.kind() == Kind::floating) return std::fmod(v.number(), num.number()) == 0;
  return v.integer_value() % num.integer_value() == 0;
}

bool ordered(Evaluator& ev, const Value& a, const Value& b, SourcePos pos, const char* op, int& c) {
  if (a.is_undefined()) ev.fail_undefined(a, pos);
  if (b.is_undefined()) ev.fail_undefined(b, pos);
  bool ok = true;
  c = py_compare(a, b, ok);
  if (!ok) ev.fail(pos, fmt::format("'{}' not supported between instances of '{}' and '{}'", op, type_name(a), type_name(b)));
  return c != 2;
}

bool t_eq(Evaluator& ev, const Value& v, const CallArgs& a) { return py_equal(v, other(ev, a)); }
bool t_ne(Evaluator& ev, const Value& v, const CallArgs& a) { return !py_equal(v, other(ev, a)); }
bool t_lt(Evaluator& ev, const Value& v, const CallArgs& a) {
  int c;
  return ordered(ev, v, other(ev, a), a.pos, "<", c) && c < 0;
}
bool t_le(Evaluator& ev, const Value& v, const CallArgs& a) {
  int c;
  return ordered(ev, v, other(ev, a), a.pos, "<=", c) && c <= 0;
}
bool t_gt(Evaluator& ev, const Value& v, const CallArgs& a) {
  int c;
  return ordered(ev, v, other(ev, a), a.pos, ">", c) && c > 0;
}
bool t_ge(Evaluator& ev, const Value& v, const CallArgs& a) {
  int c;
  return ordered(ev, v, other(ev, a), a.pos, ">=", c) && c >= 0;
}

bool t_in(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value& seq = other(ev, a);
  if (seq.is_string()) {
    if (!v.is_string()) ev.fail(a.pos, fmt::format("'in <string>' requires string as left operand, not {}", type_name(v)));
    return seq.as_string().find(v.as_string()) != std::string::npos;
  }
  if (seq.is_dict()) return seq.as_dict().find(v) != nullptr;
  for (const auto& x : ev.iterate(seq, a.pos))
    if (py_equal(x, v)) return true;
  return false;
}

bool t_sameas(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value& o = other(ev, a);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::none:
    case Kind::undefined: return v.is_none();
    case Kind::boolean: return v.as_bool() == o.as_bool();
    case Kind::integer: return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;  // CPython's cache
    case Kind::dict:
    case Kind::list:
    case Kind::callable:
    case Kind::object: return py_equal(v, o) && (v.kind() == Kind::callable || v.kind() == Kind::object);
    default: return false;
  }
}

bool t_filter(Evaluator&, const Value& v, const CallArgs&) { return v.is_string() && find_filter(v.as_string()); }
bool t_test(Evaluator&, const Value& v, const CallArgs&) { return v.is_string() && find_test(v.as_string()); }

constexpr TestEntry tests[] = {
    {"boolean", t_boolean}, {"callable", t_callable}, {"defined", t_defined},     {"divisibleby", t_divisibleby},
    {"eq", t_eq},           {"equalto", t_eq},        {"==", t_eq},               {"escaped", t_escaped},
    {"even", t_even},       {"false", t_false},       {"filter", t_filter},       {"float", t_float},
    {"ge", t_ge},           {">=", t_ge},             {"gt", t_gt},               {"greaterthan", t_gt},
    {">", t_gt},            {"in", t_in},             {"integer", t_integer},     {"iterable", t_iterable},
    {"le", t_le},           {"<=", t_le},             {"lower", t_lower},         {"lt", t_lt},
    {"lessthan", t_lt},     {"<", t_lt},              {"mapping", t_mapping},     {"ne", t_ne},
    {"!=", t_ne},           {"none", t_none},         {"number", t_number},       {"odd", t_odd},
    {"sameas", t_sameas},   {"sequence", t_sequence}, {"string", t_string},       {"test", t_test},
    {"true", t_true},       {"undefined", t_undefined}, {"upper", t_upper},
};

}  // namespace

const TestEntry* find_test(std::string_view name) {
  for (const auto& t : tests)
    if (t.name == name) return &t;
  return nullptr;
}

bool jinja_has_test(std::string_view) { return false; }  // every jinja2 test is implemented

TestFn test_function(std::string_view name) {
  const TestEntry* t = find_test(name);
  return t ? t->fn : nullptr;
}

}  // namespace ollm::chat_template
