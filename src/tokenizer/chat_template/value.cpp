// Value construction, Python truthiness, str()/repr(), equality and ordering.
#include "tokenizer/chat_template/value.hpp"

#include <fmt/format.h>

#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {

Value Value::undefined(std::string hint) {
  Value v;
  v.data_ = std::move(hint);
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::none;
  return v;
}

Value Value::list(ValueList items, ListFlavor flavor) {
  Value v;
  v.kind_ = Kind::list;
  v.flavor_ = flavor;
  v.data_ = std::make_shared<ValueList>(std::move(items));
  return v;
}

Value Value::dict(std::shared_ptr<Dict> d) {
  Value v;
  v.kind_ = Kind::dict;
  v.data_ = std::move(d);
  return v;
}

Value Value::callable(std::shared_ptr<Callable> c) {
  Value v;
  v.kind_ = Kind::callable;
  v.data_ = std::move(c);
  return v;
}

Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::object;
  v.data_ = std::move(o);
  return v;
}

const std::string& Value::undefined_hint() const {
  static const std::string empty;
  if (const auto* s = std::get_if<std::string>(&data_)) return *s;
  return empty;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::undefined:
    case Kind::none: return false;
    case Kind::boolean: return as_bool();
    case Kind::integer: return as_int() != 0;
    case Kind::floating: return as_float() != 0.0;
    case Kind::string: return !as_string().empty();
    case Kind::list: return is_iterator() || !as_list().empty();  // Python objects without __len__ are true
    case Kind::dict: return as_dict().size() != 0;
    case Kind::callable:
    case Kind::object: return true;
  }
  return false;
}

double Value::number() const {
  if (kind_ == Kind::floating) return as_float();
  return static_cast<double>(integer_value());
}

int64_t Value::integer_value() const { return kind_ == Kind::boolean ? (as_bool() ? 1 : 0) : as_int(); }

const Value* Dict::find(std::string_view key) const {
  if (!index_.empty()) {
    const auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &items[it->second].second;
  }
  for (const auto& [k, v] : items)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : items)
    if (py_equal(k, key)) return &v;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  if (const Value* existing = find(key)) {
    *const_cast<Value*>(existing) = std::move(value);
    return;
  }
  items.emplace_back(std::move(key), std::move(value));
  if (items.size() > 16) {
    if (index_.empty()) reindex();
    else if (items.back().first.is_string()) index_.emplace(items.back().first.as_string(), items.size() - 1);
  }
}

void Dict::reindex() {
  index_.clear();
  // Only worth it (and only correct) when every key is a string.
  for (const auto& kv : items)
    if (!kv.first.is_string()) return;
  for (size_t i = 0; i < items.size(); ++i) index_.emplace(items[i].first.as_string(), i);
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return index < positional.size() ? &positional[index] : nullptr;
}

std::string Object::str() const { return fmt::format("<{} object>", type_name()); }

std::string_view type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::list:
      switch (v.list_flavor()) {
        case ListFlavor::tuple: return "tuple";
        case ListFlavor::dict_items: return "dict_items";
        case ListFlavor::dict_keys: return "dict_keys";
        case ListFlavor::dict_values: return "dict_values";
        case ListFlavor::generator: return "generator";
        case ListFlavor::reverse_iterator: return "list_reverseiterator";
        default: return "list";
      }
    case Kind::dict: return "dict";
    case Kind::callable: return "function";
    case Kind::object: return v.as_object()->type_name();
  }
  return "object";
}

namespace {

void append_repr(std::string& out, const Value& v);

void append_list(std::string& out, const Value& v) {
  const auto& items = v.as_list();
  const auto flavor = v.list_flavor();
  if (v.is_iterator()) {  // Python shows an address here; there is nothing stable to match
    out += fmt::format("<{} object>", type_name(v));
    return;
  }
  const char* open = flavor == ListFlavor::tuple ? "(" : "[";
  const char* close = flavor == ListFlavor::tuple ? ")" : "]";
  if (flavor == ListFlavor::dict_items) out += "dict_items(";
  else if (flavor == ListFlavor::dict_keys) out += "dict_keys(";
  else if (flavor == ListFlavor::dict_values) out += "dict_values(";
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, items[i]);
  }
  if (flavor == ListFlavor::tuple && items.size() == 1) out += ',';
  out += close;
  if (flavor != ListFlavor::list && flavor != ListFlavor::tuple) out += ')';
}

void append_dict(std::string& out, const Dict& d) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : d.items) {
    if (!first) out += ", ";
    first = false;
    append_repr(out, k);
    out += ": ";
    append_repr(out, v);
  }
  out += '}';
}

void append_repr(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::string: out += py_string_repr(v.as_string()); break;
    case Kind::undefined: out += "Undefined"; break;
    default: append_str(out, v);
  }
}

}  // namespace

void append_str(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: break;
    case Kind::none: out += "None"; break;
    case Kind::boolean: out += v.as_bool() ? "True" : "False"; break;
    case Kind::integer: fmt::format_to(std::back_inserter(out), "{}", v.as_int()); break;
    case Kind::floating: out += py_float_repr(v.as_float()); break;
    case Kind::string: out += v.as_string(); break;
    case Kind::list: append_list(out, v); break;
    case Kind::dict: append_dict(out, v.as_dict()); break;
    case Kind::callable: out += fmt::format("<function {}>", v.as_callable()->name); break;
    case Kind::object: out += v.as_object()->str(); break;
  }
}

std::string py_str(const Value& v) {
  if (v.is_string()) return v.as_string();
  std::string out;
  append_str(out, v);
  return out;
}

std::string py_repr(const Value& v) {
  std::string out;
  append_repr(out, v);
  return out;
}

bool py_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::floating || b.kind() == Kind::floating) return a.number() == b.number();
    return a.integer_value() == b.integer_value();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::undefined:
    case Kind::none: return true;
    case Kind::string: return a.as_string() == b.as_string();
    case Kind::list: {
      const bool a_tuple = a.list_flavor() == ListFlavor::tuple, b_tuple = b.list_flavor() == ListFlavor::tuple;
      if (a_tuple != b_tuple) return false;
      const auto &x = a.as_list(), &y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!py_equal(x[i], y[i])) return false;
      return true;
    }
    case Kind::dict: {
      const auto &x = a.as_dict(), &y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* other = y.find(k);
        if (!other || !py_equal(v, *other)) return false;
      }
      return true;
    }
    case Kind::callable: return a.as_callable() == b.as_callable();
    case Kind::object: return a.as_object() == b.as_object();
    default: return false;
  }
}

int py_compare(const Value& a, const Value& b, bool& ok) {
  ok = true;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::floating || b.kind() == Kind::floating) {
      const double x = a.number(), y = b.number();
      if (x != x || y != y) return 2;  // NaN: every ordering is false; callers treat 2 as "unordered"
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const int64_t x = a.integer_value(), y = b.integer_value();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && (a.list_flavor() == ListFlavor::tuple) == (b.list_flavor() == ListFlavor::tuple)) {
    const auto &x = a.as_list(), &y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (py_equal(x[i], y[i])) continue;
      return py_compare(x[i], y[i], ok);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  ok = false;
  return 0;
}

}  // namespace ollm::chat_template
