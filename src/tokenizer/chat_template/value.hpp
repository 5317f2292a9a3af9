// The dynamic value of the template engine: Python's None/bool/int/float/str/list/tuple/dict plus
// Jinja's Undefined, callables (macros, builtins, bound methods) and objects (loop, namespace).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace ollm::chat_template {

struct SourcePos {
  uint32_t line = 0;
  uint32_t column = 0;
};

class Value;
class Evaluator;
struct Dict;
struct Callable;
struct Object;
using ValueList = std::vector<Value>;

enum class Kind : uint8_t { undefined, none, boolean, integer, floating, string, list, dict, callable, object };
// Lists remember which Python sequence they stand for, because str() of each differs. `generator`
// is what jinja2's map/select/reject/selectattr/rejectattr/unique/batch return and `reverse_iterator`
// what reverse gives for a list: iterable, but always true, without len(), not subscriptable and not
// JSON serializable (tojson refuses them, as transformers does). Unlike Python's they can be
// iterated more than once.
enum class ListFlavor : uint8_t { list, tuple, dict_items, dict_keys, dict_values, generator, reverse_iterator };

class Value {
 public:
  Value() = default;  // undefined, with no hint
  Value(bool b) : kind_(Kind::boolean), data_(b) {}                    // NOLINT
  Value(int64_t i) : kind_(Kind::integer), data_(i) {}                 // NOLINT
  Value(int i) : kind_(Kind::integer), data_(int64_t{i}) {}            // NOLINT
  Value(double f) : kind_(Kind::floating), data_(f) {}                 // NOLINT
  Value(std::string s) : kind_(Kind::string), data_(std::move(s)) {}   // NOLINT
  Value(std::string_view s) : kind_(Kind::string), data_(std::string(s)) {}  // NOLINT
  Value(const char* s) : kind_(Kind::string), data_(std::string(s)) {}  // NOLINT

  // `hint` is the message a strict use of the value reports ("'foo' is undefined").
  static Value undefined(std::string hint);
  static Value none();
  static Value list(ValueList items, ListFlavor flavor = ListFlavor::list);
  static Value dict(std::shared_ptr<Dict> d);
  static Value callable(std::shared_ptr<Callable> c);
  static Value object(std::shared_ptr<Object> o);
  // markupsafe's Markup: a string marked safe (|safe, |escape). Adding a plain string to it
  // HTML-escapes that string, as Python does even with autoescape off (functionary's templates
  // print `"..."|safe + x|tojson` with &#34; for each quote).
  static Value markup(std::string s) {
    Value v(std::move(s));
    v.markup_ = true;
    return v;
  }
  bool is_markup() const noexcept { return markup_; }

  Kind kind() const noexcept { return kind_; }
  bool is_undefined() const noexcept { return kind_ == Kind::undefined; }
  bool is_none() const noexcept { return kind_ == Kind::none; }
  bool is_string() const noexcept { return kind_ == Kind::string; }
  bool is_number() const noexcept { return kind_ == Kind::integer || kind_ == Kind::floating || kind_ == Kind::boolean; }
  bool is_list() const noexcept { return kind_ == Kind::list; }
  bool is_dict() const noexcept { return kind_ == Kind::dict; }
  // A generator or iterator (see ListFlavor): a list in storage only.
  bool is_iterator() const noexcept {
    return kind_ == Kind::list && (flavor_ == ListFlavor::generator || flavor_ == ListFlavor::reverse_iterator);
  }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const std::string& undefined_hint() const;
  const ValueList& as_list() const { return *std::get<std::shared_ptr<ValueList>>(data_); }
  ListFlavor list_flavor() const noexcept { return flavor_; }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(data_); }
  const std::shared_ptr<Callable>& as_callable() const { return std::get<std::shared_ptr<Callable>>(data_); }
  const std::shared_ptr<Object>& as_object() const { return std::get<std::shared_ptr<Object>>(data_); }

  // Python truthiness (Undefined is false).
  bool truthy() const;
  // Numeric value of bool/int/float as a double, int64 for bool/int.
  double number() const;
  int64_t integer_value() const;  // bool or int

 private:
  Kind kind_ = Kind::undefined;
  ListFlavor flavor_ = ListFlavor::list;
  bool markup_ = false;
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<ValueList>, std::shared_ptr<Dict>,
               std::shared_ptr<Callable>, std::shared_ptr<Object>>
      data_;
};

// An insertion-ordered mapping, as Python's dict. Keys are usually strings (JSON objects); other
// hashable kinds (int, bool, None, tuples) are compared with Python equality.
struct Dict {
  const Value* find(std::string_view key) const;
  const Value* find(const Value& key) const;
  void set(Value key, Value value);  // replaces in place, or appends
  size_t size() const noexcept { return items.size(); }
  std::vector<std::pair<Value, Value>> items;

 private:
  std::unordered_map<std::string, size_t> index_;  // string key -> position, kept once the dict grows
  void reindex();
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  SourcePos pos;
  // Named argument `name` (keyword, or positional index `index`), or nullptr when absent.
  const Value* get(size_t index, std::string_view name) const;
};

struct Callable {
  std::string name;  // for error messages ("macro 'render'", "str.split")
  std::function<Value(Evaluator&, const CallArgs&)> fn;
};

// Objects with attributes: the loop variable, namespace(), cycler(), joiner().
struct Object {
  virtual ~Object() = default;
  virtual std::string_view type_name() const = 0;
  // Undefined (with a hint) when the attribute is missing.
  virtual Value get_attr(std::string_view name) = 0;
  // False when the object refuses attribute assignment.
  virtual bool set_attr(std::string_view, Value) { return false; }
  virtual std::string str() const;
  // Drops references to other values, to break reference cycles a template built (ns.me = ns).
  virtual void release() {}
};

// Python's type name of a value, as error messages spell it ("int", "str", "NoneType").
std::string_view type_name(const Value& v);
// Python's str() and repr() (lists and dicts show their items' repr).
std::string py_str(const Value& v);
std::string py_repr(const Value& v);
void append_str(std::string& out, const Value& v);
// Python's ==, and ordering for < <= > >= (throws TypeError-like errors via the returned flag).
bool py_equal(const Value& a, const Value& b);
// -1, 0 or 1; sets `ok` false when Python would raise TypeError.
int py_compare(const Value& a, const Value& b, bool& ok);

}  // namespace ollm::chat_template
