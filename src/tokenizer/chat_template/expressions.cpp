// Expression evaluation: names, literals, attribute/item access with jinja2's getattr/getitem
// fallbacks, slices, calls, filters, tests and Python's operators on the dynamic values.
#include <fmt/format.h>

#include <cmath>

#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/py_format.hpp"
#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/template_error.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {

namespace {


std::string describe_owner(const Value& obj) {
  if (obj.is_none()) return "'None'";
  return fmt::format("'{} object'", type_name(obj));
}

Value missing_attribute(const Value& obj, std::string_view name) {
  return Value::undefined(fmt::format("{} has no attribute '{}'", describe_owner(obj), name));
}

Value missing_element(const Value& obj, const Value& key) {
  return Value::undefined(fmt::format("{} has no element {}", describe_owner(obj), py_repr(key)));
}

bool is_int_like(const Value& v) { return v.kind() == Kind::integer || v.kind() == Kind::boolean; }

// A filter or test the parser left unresolved (an unknown name in an if): jinja2 fails only here,
// when it is called.
[[noreturn]] void fail_unresolved(const Expr& e, bool is_filter) {
  const char* what = is_filter ? "filter" : "test";
  if (is_filter ? jinja_has_filter(e.name) : jinja_has_test(e.name))
    template_fail(ErrorCode::unsupported, e.pos, "the '{}' {} is not supported", e.name, what);
  template_fail(ErrorCode::invalid_argument, e.pos, "no {} named '{}'", what, e.name);
}

}  // namespace

Value Evaluator::get_attr(const Value& obj, std::string_view name, SourcePos pos) {
  switch (obj.kind()) {
    case Kind::undefined: fail_undefined(obj, pos);
    case Kind::object: return obj.as_object()->get_attr(name);
    case Kind::dict: {
      Value m = find_method(obj, name, pos);
      if (!m.is_undefined()) return m;
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return missing_attribute(obj, name);
    }
    case Kind::string:
    case Kind::list: {
      Value m = find_method(obj, name, pos);
      if (!m.is_undefined()) return m;
      return missing_attribute(obj, name);
    }
    default: return missing_attribute(obj, name);
  }
}

Value Evaluator::get_item(const Value& obj, const Value& key, SourcePos pos) {
  switch (obj.kind()) {
    case Kind::undefined: fail_undefined(obj, pos);
    case Kind::dict:
      if (const Value* v = obj.as_dict().find(key)) return *v;
      break;
    case Kind::list:
      if (obj.is_iterator()) return Value::undefined(fmt::format("'{}' object is not subscriptable", type_name(obj)));
      if (is_int_like(key)) {
        const auto& items = obj.as_list();
        int64_t i = key.integer_value();
        if (i < 0) i += static_cast<int64_t>(items.size());
        if (i >= 0 && i < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(i)];
        return missing_element(obj, key);
      }
      break;
    case Kind::string:
      if (is_int_like(key)) {
        const std::string& s = obj.as_string();
        int64_t i = key.integer_value();
        if (is_ascii(s)) {
          if (i < 0) i += static_cast<int64_t>(s.size());
          if (i >= 0 && i < static_cast<int64_t>(s.size())) return Value(std::string(1, s[static_cast<size_t>(i)]));
        } else {
          const auto offs = utf8_offsets(s);
          const auto n = static_cast<int64_t>(offs.size() - 1);
          if (i < 0) i += n;
          if (i >= 0 && i < n) return Value(s.substr(offs[i], offs[i + 1] - offs[i]));
        }
        return missing_element(obj, key);
      }
      break;
    default: break;
  }
  // jinja2 falls back to attribute lookup for string keys ("d['items']" finds the method).
  if (key.is_string()) {
    if (obj.kind() == Kind::object) return obj.as_object()->get_attr(key.as_string());
    if (obj.kind() == Kind::string || obj.kind() == Kind::list || obj.kind() == Kind::dict) {
      Value m = find_method(obj, key.as_string(), pos);
      if (!m.is_undefined()) return m;
    }
    return missing_attribute(obj, key.as_string());
  }
  return missing_element(obj, key);
}

std::vector<Value> Evaluator::iterate(const Value& v, SourcePos pos) {
  switch (v.kind()) {
    case Kind::undefined: return {};
    case Kind::list: return v.as_list();
    case Kind::dict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().size());
      for (const auto& kv : v.as_dict().items) keys.push_back(kv.first);
      return keys;
    }
    case Kind::string: {
      std::vector<Value> chars;
      const std::string& s = v.as_string();
      // One Value per character: bounded before building (a 60 MB string would take gigabytes).
      const size_t n_chars = utf8_length(s);
      if (n_chars > max_items())
        fail(pos, fmt::format("iterating a string of {} characters: more than {} items", n_chars, max_items()));
      charge(n_chars, pos);
      chars.reserve(n_chars);
      for (size_t i = 0; i < s.size();) {
        uint32_t cp;
        const size_t n = utf8_decode(s, i, cp);
        chars.emplace_back(s.substr(i, n));
        i += n;
      }
      return chars;
    }
    default: fail(pos, fmt::format("'{}' object is not iterable", type_name(v)));
  }
}

CallArgs Evaluator::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope) {
  CallArgs args;
  args.pos = e.pos;
  args.positional.reserve(e.args.size());
  for (const auto& a : e.args) args.positional.push_back(eval(*a, scope));
  for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v, scope));
  return args;
}

Value Evaluator::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* caller) {
  const Value callee = eval(*e.target, scope);
  CallArgs args = eval_args(e, scope);
  if (caller) args.keyword.emplace_back("caller", *caller);
  return call(callee, args, e.pos);
}

Value Evaluator::apply_filter(const Expr& e, Value input, const std::shared_ptr<Scope>& scope) {
  // Filter blocks: the chain's innermost target is empty and receives the rendered body.
  if (e.target) input = apply_filter(*e.target, std::move(input), scope);
  const auto* entry = static_cast<const FilterEntry*>(e.builtin);
  if (!entry) fail_unresolved(e, true);
  return entry->fn(*this, input, eval_args(e, scope));
}

Value Evaluator::slice(const Value& obj, const Expr& s, const std::shared_ptr<Scope>& scope) {
  std::optional<int64_t> bounds[3];
  for (int k = 0; k < 3; ++k) {
    if (!s.args[k]) continue;
    const Value b = eval(*s.args[k], scope);
    if (b.is_none()) continue;
    if (!is_int_like(b)) fail(s.pos, "slice indices must be integers or None or have an __index__ method");
    bounds[k] = b.integer_value();
  }
  const int64_t step = bounds[2].value_or(1);
  if (step == 0) fail(s.pos, "slice step cannot be zero");
  if (obj.is_undefined()) fail_undefined(obj, s.pos);
  const bool is_str = obj.is_string();
  if ((!is_str && !obj.is_list()) || obj.is_iterator()) return Value::undefined(fmt::format("'{}' object is not subscriptable", type_name(obj)));
  std::vector<size_t> offs;
  int64_t n;
  if (is_str) {
    offs = utf8_offsets(obj.as_string());
    n = static_cast<int64_t>(offs.size() - 1);
  } else {
    n = static_cast<int64_t>(obj.as_list().size());
  }
  auto adjust = [&](std::optional<int64_t> b, int64_t dflt) {
    if (!b) return dflt;
    int64_t v = *b;
    if (v < 0) {
      v += n;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= n) {
      v = step < 0 ? n - 1 : n;
    }
    return v;
  };
  const int64_t start = adjust(bounds[0], step < 0 ? n - 1 : 0);
  const int64_t stop = adjust(bounds[1], step < 0 ? -1 : n);
  if (is_str) {
    const std::string& str = obj.as_string();
    std::string out;
    if (step == 1) {
      if (stop > start) out = str.substr(offs[start], offs[stop] - offs[start]);
    } else {
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out += str.substr(offs[i], offs[i + 1] - offs[i]);
    }
    return Value(std::move(out));
  }
  const auto& items = obj.as_list();
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(items[static_cast<size_t>(i)]);
  return Value::list(std::move(out), obj.list_flavor() == ListFlavor::tuple ? ListFlavor::tuple : ListFlavor::list);
}

Value Evaluator::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  DepthGuard depth(*this, e.pos);
  charge(1, e.pos);
  switch (e.kind) {
    case ExprKind::literal: return e.literal;
    case ExprKind::name: return lookup(e.name, scope);
    case ExprKind::nsref: fail(e.pos, "namespace attribute references are only valid as assignment targets");
    case ExprKind::list:
    case ExprKind::tuple: {
      ValueList items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a, scope));
      return Value::list(std::move(items), e.kind == ExprKind::tuple ? ListFlavor::tuple : ListFlavor::list);
    }
    case ExprKind::dict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i], scope);
        if (k.is_list() && k.list_flavor() != ListFlavor::tuple) fail(e.args[i]->pos, "unhashable type: 'list'");
        if (k.is_dict()) fail(e.args[i]->pos, "unhashable type: 'dict'");
        d->set(std::move(k), eval(*e.args[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::getattr: return get_attr(eval(*e.target, scope), e.name, e.pos);
    case ExprKind::getitem: {
      const Value obj = eval(*e.target, scope);
      if (e.args[0]->kind == ExprKind::slice) return slice(obj, *e.args[0], scope);
      return get_item(obj, eval(*e.args[0], scope), e.pos);
    }
    case ExprKind::slice: fail(e.pos, "a slice outside of a subscript");
    case ExprKind::call: return eval_call(e, scope, nullptr);
    case ExprKind::filter: {
      Value input = eval(*e.target, scope);
      const auto* entry = static_cast<const FilterEntry*>(e.builtin);
      if (!entry) fail_unresolved(e, true);
      return entry->fn(*this, input, eval_args(e, scope));
    }
    case ExprKind::test: {
      const Value input = eval(*e.target, scope);
      const auto* entry = static_cast<const TestEntry*>(e.builtin);
      if (!entry) fail_unresolved(e, false);
      const bool r = entry->fn(*this, input, eval_args(e, scope));
      return Value(e.negated ? !r : r);
    }
    case ExprKind::not_: return Value(!eval(*e.args[0], scope).truthy());
    case ExprKind::neg:
    case ExprKind::pos: {
      const Value v = eval(*e.args[0], scope);
      if (v.is_undefined()) fail_undefined(v, e.pos);
      if (!v.is_number())
        fail(e.pos, fmt::format("bad operand type for unary {}: '{}'", e.kind == ExprKind::neg ? '-' : '+', type_name(v)));
      if (e.kind == ExprKind::pos) return v.kind() == Kind::boolean ? Value(v.integer_value()) : v;
      if (v.kind() == Kind::floating) return Value(-v.as_float());
      if (v.integer_value() == INT64_MIN) template_fail(ErrorCode::unsupported, e.pos, "integer overflow");
      return Value(-v.integer_value());
    }
    case ExprKind::binary: {
      const Value a = eval(*e.args[0], scope);
      const Value b = eval(*e.args[1], scope);
      return binary(e.name, a, b, e.pos);
    }
    case ExprKind::and_: {
      Value a = eval(*e.args[0], scope);
      return a.truthy() ? eval(*e.args[1], scope) : a;
    }
    case ExprKind::or_: {
      Value a = eval(*e.args[0], scope);
      return a.truthy() ? a : eval(*e.args[1], scope);
    }
    case ExprKind::concat: {
      std::string out;
      for (const auto& a : e.args) {
        append_str(out, eval(*a, scope));
        check_size(out.size(), e.pos);
      }
      charge_bytes(out.size(), e.pos);
      return Value(std::move(out));
    }
    case ExprKind::compare: {
      Value left = eval(*e.args[0], scope);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], scope);
        if (!compare(e.ops[i], left, right, e.pos)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::condexpr:
      if (eval(*e.args[0], scope).truthy()) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.", e.pos.line));
  }
  return Value();
}

bool Evaluator::contains(const Value& container, const Value& item, SourcePos pos) {
  switch (container.kind()) {
    case Kind::undefined: return false;
    case Kind::string:
      if (!item.is_string())
        fail(pos, fmt::format("'in <string>' requires string as left operand, not {}", type_name(item)));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::list:
      charge(container.as_list().size(), pos);
      for (const auto& x : container.as_list())
        if (py_equal(x, item)) return true;
      return false;
    case Kind::dict: return container.as_dict().find(item) != nullptr;
    default: fail(pos, fmt::format("argument of type '{}' is not iterable", type_name(container)));
  }
}

bool Evaluator::compare(const std::string& op, const Value& a, const Value& b, SourcePos pos) {
  if (op == "==") return py_equal(a, b);
  if (op == "!=") return !py_equal(a, b);
  if (op == "in") return contains(b, a, pos);
  if (op == "notin") return !contains(b, a, pos);
  if (a.is_undefined()) fail_undefined(a, pos);
  if (b.is_undefined()) fail_undefined(b, pos);
  bool ok = true;
  const int c = py_compare(a, b, ok);
  if (!ok) fail(pos, fmt::format("'{}' not supported between instances of '{}' and '{}'", op, type_name(a), type_name(b)));
  if (c == 2) return false;  // NaN
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

namespace {

int64_t checked(bool overflow, int64_t v, SourcePos pos) {
  if (overflow)
    template_fail(ErrorCode::unsupported, pos, "integer overflow (Python integers are unbounded; ollm stops at 64 bits)");
  return v;
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((b < 0) != (m < 0))) m += b;
  return m;
}

// CPython's float_floor_div.
double py_floordiv(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  if (div != 0) {
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return floordiv;
  }
  return std::copysign(0.0, vx / wx);
}

}  // namespace

Value Evaluator::binary(const std::string& op, const Value& a, const Value& b, SourcePos pos) {
  if (a.is_undefined()) fail_undefined(a, pos);
  if (b.is_undefined()) fail_undefined(b, pos);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && a.kind() != Kind::floating && b.kind() != Kind::floating;
  auto type_error = [&]() -> Value {
    if (op == "+" && a.is_string())
      fail(pos, fmt::format("can only concatenate str (not \"{}\") to str", type_name(b)));
    fail(pos, fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b)));
  };
  if (op == "+") {
    if (ints) {
      int64_t r = 0;
      const bool overflow = __builtin_add_overflow(a.integer_value(), b.integer_value(), &r);
      return Value(checked(overflow, r, pos));
    }
    if (nums) return Value(a.number() + b.number());
    if (a.is_string() && b.is_string()) {
      if (a.is_markup() || b.is_markup()) {  // Markup.__add__ / __radd__ escape the plain side
        std::string out = a.is_markup() ? a.as_string() : html_escape(a.as_string());
        out += b.is_markup() ? b.as_string() : html_escape(b.as_string());
        check_size(out.size(), pos);
        charge_bytes(out.size(), pos);
        return Value::markup(std::move(out));
      }
      check_size(a.as_string().size() + b.as_string().size(), pos);
      charge_bytes(a.as_string().size() + b.as_string().size(), pos);
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.list_flavor() == b.list_flavor() &&
        (a.list_flavor() == ListFlavor::list || a.list_flavor() == ListFlavor::tuple)) {
      if (a.as_list().size() + b.as_list().size() > max_items())
        fail(pos, fmt::format("list concatenation beyond {} items", max_items()));
      charge(a.as_list().size() + b.as_list().size(), pos);
      ValueList out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value::list(std::move(out), a.list_flavor());
    }
    return type_error();
  }
  if (op == "-") {
    if (ints) {
      int64_t r = 0;
      const bool overflow = __builtin_sub_overflow(a.integer_value(), b.integer_value(), &r);
      return Value(checked(overflow, r, pos));
    }
    if (nums) return Value(a.number() - b.number());
    return type_error();
  }
  if (op == "*") {
    if (ints) {
      int64_t r = 0;
      const bool overflow = __builtin_mul_overflow(a.integer_value(), b.integer_value(), &r);
      return Value(checked(overflow, r, pos));
    }
    if (nums) return Value(a.number() * b.number());
    const Value* seq = (a.is_string() || a.is_list()) ? &a : (b.is_string() || b.is_list()) ? &b : nullptr;
    const Value* count = seq == &a ? &b : &a;
    if (seq && (count->kind() == Kind::integer || count->kind() == Kind::boolean)) {
      const int64_t times = std::max<int64_t>(0, count->integer_value());
      if (seq->is_string()) {
        const std::string& s = seq->as_string();
        check_size(static_cast<uint64_t>(times), s.size(), fmt::format("string repetition * {}", times), pos);
        charge_bytes(s.size() * static_cast<size_t>(times), pos);
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(times));
        for (int64_t i = 0; i < times; ++i) out += s;
        return seq->is_markup() ? Value::markup(std::move(out)) : Value(std::move(out));
      }
      const auto& items = seq->as_list();
      if (!items.empty() && static_cast<uint64_t>(times) > max_items() / items.size())
        fail(pos, fmt::format("list repetition beyond {} items", max_items()));
      charge(items.size() * static_cast<uint64_t>(times), pos);
      ValueList out;
      for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
      return Value::list(std::move(out), seq->list_flavor() == ListFlavor::tuple ? ListFlavor::tuple : ListFlavor::list);
    }
    return type_error();
  }
  if (op == "/") {
    if (!nums) return type_error();
    if (b.number() == 0) fail(pos, "division by zero");
    return Value(a.number() / b.number());
  }
  if (op == "//") {
    if (!nums) return type_error();
    if (b.number() == 0) fail(pos, ints ? "integer division or modulo by zero" : "float floor division by zero");
    if (ints) {
      const int64_t x = a.integer_value(), y = b.integer_value();
      if (x == INT64_MIN && y == -1) checked(true, 0, pos);
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value(q);
    }
    return Value(py_floordiv(a.number(), b.number()));
  }
  if (op == "%") {
    if (a.is_string()) return percent_format(*this, a, b, pos);
    if (!nums) return type_error();
    if (b.number() == 0) fail(pos, ints ? "integer division or modulo by zero" : "float modulo");
    if (ints) {
      const int64_t x = a.integer_value(), y = b.integer_value();
      if (y == -1) return Value(int64_t{0});
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value(m);
    }
    return Value(py_fmod(a.number(), b.number()));
  }
  if (op == "**") {
    if (!nums) return type_error();
    if (ints && b.integer_value() >= 0) {
      int64_t base = a.integer_value(), e = b.integer_value(), r = 1;
      while (e > 0) {
        if (e & 1) checked(__builtin_mul_overflow(r, base, &r), 0, pos);
        e >>= 1;
        if (e > 0) checked(__builtin_mul_overflow(base, base, &base), 0, pos);
      }
      return Value(r);
    }
    if (a.number() == 0 && b.number() < 0) fail(pos, "0.0 cannot be raised to a negative power");
    return Value(std::pow(a.number(), b.number()));
  }
  fail(pos, fmt::format("unknown operator '{}'", op));
}

}  // namespace ollm::chat_template
