// Jinja2 grammar over the lexer's tokens (precedence and statement forms as in jinja2/parser.py).
#include "tokenizer/chat_template/parser.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>

#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/lexer.hpp"
#include "tokenizer/chat_template/template_error.hpp"

namespace ollm::chat_template {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  StmtList parse_all() {
    StmtList body = subparse({});
    if (cur().type != Tok::eof) fail("unexpected tag");  // an end tag with no opening
    // jinja2's compiler refuses an unknown filter or test unless it sits in an if statement or
    // an inline if ("soft frame"); those fail when called (Evaluator), so an untaken branch renders.
    for (const Unresolved& u : unresolved_) {
      if (u.soft) continue;
      if (u.known_to_jinja)
        template_fail(ErrorCode::unsupported, u.pos, "the '{}' {} is not supported", u.name, u.is_filter ? "filter" : "test");
      template_fail(ErrorCode::invalid_model_file, u.pos, "no {} named '{}'", u.is_filter ? "filter" : "test", u.name);
    }
    return body;
  }

 private:
  // --- token stream -------------------------------------------------------------------
  const Token& cur() const { return toks_[i_]; }
  const Token& look() const { return toks_[i_ + 1 < toks_.size() ? i_ + 1 : i_]; }
  Token next() {
    Token t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::op && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::name && cur().value == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::eof: return "end of template";
      case Tok::block_end: return "end of statement block";
      case Tok::var_end: return "end of print statement";
      case Tok::block_begin: return "begin of statement block";
      case Tok::var_begin: return "begin of print statement";
      case Tok::text: return "template data";
      case Tok::string: return "string";
      case Tok::integer:
      case Tok::floating: return t.value;
      default: return t.value;
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    template_fail(ErrorCode::invalid_model_file, cur().pos, "syntax error: {}", what);
  }
  [[noreturn]] void unexpected() const { fail(fmt::format("unexpected '{}'", describe(cur()))); }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail(fmt::format("expected '{}', got '{}'", op, describe(cur())));
  }
  std::string expect_name() {
    if (cur().type != Tok::name) fail(fmt::format("expected a name, got '{}'", describe(cur())));
    return next().value;
  }
  void expect(Tok type, std::string_view what) {
    if (cur().type != type) fail(fmt::format("expected {}, got '{}'", what, describe(cur())));
    next();
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > max_parse_depth)
        template_fail(ErrorCode::invalid_argument, p.cur().pos, "template nests deeper than {} levels", max_parse_depth);
    }
    ~DepthGuard() { --p.depth_; }
  };

  static ExprPtr make(ExprKind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // Every node with children passes here once they are attached: the height check happens while
  // the tree is built, so no tree deeper than the limit ever exists (not even one being freed).
  ExprPtr finish(ExprPtr e) const {
    uint32_t h = 0;
    if (e->target) h = e->target->height;
    for (const auto& a : e->args)
      if (a) h = std::max(h, a->height);
    for (const auto& kv : e->kwargs) h = std::max(h, kv.second->height);
    e->height = h + 1;
    if (e->height > max_expr_height)
      template_fail(ErrorCode::invalid_argument, e->pos, "expression nests deeper than {} levels", max_expr_height);
    return e;
  }

  // An unknown filter/test name: refused after parsing unless it turns out to be in a soft frame.
  struct Unresolved {
    std::string name;
    SourcePos pos;
    bool is_filter = true, known_to_jinja = false, soft = false;
  };
  void note_unresolved(const std::string& name, SourcePos pos, bool is_filter) {
    unresolved_.push_back({name, pos, is_filter, is_filter ? jinja_has_filter(name) : jinja_has_test(name), soft_});
  }
  // Sets soft_ for a region and restores it.
  struct SoftFrame {
    Parser& p;
    bool saved;
    SoftFrame(Parser& parser, bool soft) : p(parser), saved(parser.soft_) { p.soft_ = soft; }
    ~SoftFrame() { p.soft_ = saved; }
  };

  // --- statements ------------------------------------------------------------------------
  // Parses until a block tag whose name is one of `end_names` (left current) or the end.
  StmtList subparse(std::initializer_list<std::string_view> end_names) {
    DepthGuard guard(*this);
    StmtList body;
    while (cur().type != Tok::eof) {
      const Token& t = cur();
      if (t.type == Tok::text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::text;
        s->pos = t.pos;
        s->text = t.value;
        next();
        body.push_back(std::move(s));
      } else if (t.type == Tok::var_begin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::output;
        s->pos = t.pos;
        next();
        s->exprs.push_back(parse_tuple(true, {}, false));
        expect(Tok::var_end, "'}}'");
        body.push_back(std::move(s));
      } else if (t.type == Tok::block_begin) {
        next();
        if (cur().type == Tok::name)
          for (auto n : end_names)
            if (cur().value == n) return body;
        body.push_back(parse_statement());
        expect(Tok::block_end, "'%}'");
      } else {
        unexpected();
      }
    }
    return body;
  }

  // After the tag's header: expects "%}", parses the body up to one of `end_names`.
  StmtList statements(std::initializer_list<std::string_view> end_names, bool drop_needle) {
    skip_op(":");
    expect(Tok::block_end, "'%}'");
    StmtList body = subparse(end_names);
    if (cur().type == Tok::eof) {
      std::string names;
      for (auto n : end_names) names += (names.empty() ? "'" : " or '") + std::string(n) + "'";
      fail(fmt::format("unexpected end of template, expected {}", names));
    }
    if (drop_needle) next();
    return body;
  }

  StmtPtr stmt(StmtKind kind, SourcePos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);
    if (cur().type != Tok::name) fail("tag name expected");
    const Token tag = cur();
    const std::string& n = tag.value;
    if (n == "if") return parse_if();
    if (n == "for") return parse_for();
    if (n == "set") return parse_set();
    if (n == "macro") return parse_macro();
    if (n == "call") return parse_call_block();
    if (n == "filter") return parse_filter_block();
    if (n == "with") return parse_with();
    if (n == "print") {
      next();
      auto s = stmt(StmtKind::output, tag.pos);
      while (cur().type != Tok::block_end) {
        if (!s->exprs.empty()) expect_op(",");
        s->exprs.push_back(parse_expression(true));
      }
      return s;
    }
    if (n == "break" || n == "continue") {
      next();
      if (loop_depth_ == 0) fail(fmt::format("'{}' outside of a loop", n));
      return stmt(n == "break" ? StmtKind::break_ : StmtKind::continue_, tag.pos);
    }
    if (n == "generation") {  // transformers' AssistantTracker tag: renders its body unchanged
      next();
      auto s = stmt(StmtKind::scope, tag.pos);
      s->body = statements({"endgeneration"}, true);
      return s;
    }
    if (n == "block" || n == "extends" || n == "include" || n == "import" || n == "from" || n == "autoescape" ||
        n == "trans" || n == "do")
      template_fail(ErrorCode::unsupported, tag.pos, "the '{}' tag is not supported in chat templates", n);
    fail(fmt::format("encountered unknown tag '{}'", n));
  }

  StmtPtr parse_if() {
    SoftFrame soft(*this, true);
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::if_, pos);
    s->expr = parse_tuple(false, {}, false);
    s->body = statements({"elif", "else", "endif"}, false);
    const Token t = next();
    if (t.value == "elif") {
      s->else_body.push_back(parse_if_continuation(t.pos));
    } else if (t.value == "else") {
      s->else_body = statements({"endif"}, true);
    }
    return s;
  }

  StmtPtr parse_if_continuation(SourcePos pos) {
    DepthGuard guard(*this);
    auto s = stmt(StmtKind::if_, pos);
    s->expr = parse_tuple(false, {}, false);
    s->body = statements({"elif", "else", "endif"}, false);
    const Token t = next();
    if (t.value == "elif") s->else_body.push_back(parse_if_continuation(t.pos));
    else if (t.value == "else") s->else_body = statements({"endif"}, true);
    return s;
  }

  StmtPtr parse_for() {
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::for_, pos);
    s->target = parse_assign_target(true, false, {"in"});
    if (!skip_name("in")) fail(fmt::format("expected 'in', got '{}'", describe(cur())));
    s->expr = parse_tuple(false, {"recursive"}, false);
    SoftFrame inner(*this, false);  // the loop's own frame: its test and bodies are not soft
    if (skip_name("if")) s->condition = parse_expression(true);
    if (is_name("recursive")) template_fail(ErrorCode::unsupported, cur().pos, "recursive for loops are not supported");
    ++loop_depth_;
    s->body = statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().value == "else") s->else_body = statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_set() {
    const SourcePos pos = next().pos;
    ExprPtr target = parse_assign_target(true, true, {});
    if (skip_op("=")) {
      auto s = stmt(StmtKind::set, pos);
      s->target = std::move(target);
      s->expr = parse_tuple(true, {}, false);
      return s;
    }
    auto s = stmt(StmtKind::set_block, pos);
    SoftFrame inner(*this, false);
    s->target = std::move(target);
    s->expr = parse_filter(nullptr, false);
    s->body = statements({"endset"}, true);
    return s;
  }

  std::shared_ptr<MacroDef> parse_signature(std::shared_ptr<MacroDef> def) {
    expect_op("(");
    while (!is_op(")")) {
      if (!def->params.empty()) expect_op(",");
      def->params.push_back(expect_name());
      if (skip_op("=")) def->defaults.push_back(parse_expression(true));
      else if (!def->defaults.empty()) fail("non-default argument follows default argument");
    }
    expect_op(")");
    return def;
  }

  static void scan_special_names(const StmtList& body, MacroDef& def);

  StmtPtr parse_macro() {
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::macro, pos);
    auto def = std::make_shared<MacroDef>();
    def->name = expect_name();
    SoftFrame inner(*this, false);
    parse_signature(def);
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    def->body = statements({"endmacro"}, true);
    loop_depth_ = saved_loops;
    scan_special_names(def->body, *def);
    s->macro = std::move(def);
    return s;
  }

  StmtPtr parse_call_block() {
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::call_block, pos);
    auto def = std::make_shared<MacroDef>();
    def->name = "caller";
    SoftFrame inner(*this, false);
    if (is_op("(")) parse_signature(def);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::call) template_fail(ErrorCode::invalid_model_file, pos, "syntax error: expected call");
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    def->body = statements({"endcall"}, true);
    loop_depth_ = saved_loops;
    scan_special_names(def->body, *def);
    s->macro = std::move(def);
    return s;
  }

  StmtPtr parse_filter_block() {
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::filter_block, pos);
    SoftFrame inner(*this, false);
    s->expr = parse_filter(nullptr, true);
    s->body = statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    const SourcePos pos = next().pos;
    auto s = stmt(StmtKind::with, pos);
    SoftFrame inner(*this, false);
    while (cur().type != Tok::block_end) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(parse_assign_target(true, false, {}));
      expect_op("=");
      s->exprs.push_back(parse_expression(true));
    }
    s->body = statements({"endwith"}, true);
    return s;
  }

  ExprPtr parse_assign_target(bool with_tuple, bool with_namespace, std::initializer_list<std::string_view> end_rules) {
    ExprPtr target = with_tuple ? parse_tuple_simplified(with_namespace, end_rules) : parse_primary(with_namespace);
    auto assignable = [](const Expr& e) { return e.kind == ExprKind::name || e.kind == ExprKind::nsref; };
    bool ok = assignable(*target);
    if (target->kind == ExprKind::tuple) {
      ok = true;
      for (const auto& item : target->args) ok = ok && item->kind == ExprKind::name;
    }
    if (!ok) template_fail(ErrorCode::invalid_model_file, target->pos, "syntax error: can't assign to this expression");
    return target;
  }

  bool is_tuple_end(std::initializer_list<std::string_view> end_rules) const {
    if (cur().type == Tok::var_end || cur().type == Tok::block_end || is_op(")")) return true;
    for (auto n : end_rules)
      if (is_name(n)) return true;
    return false;
  }

  ExprPtr parse_tuple_simplified(bool with_namespace, std::initializer_list<std::string_view> end_rules) {
    return tuple_of([&] { return parse_primary(with_namespace); }, end_rules, false);
  }

  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> end_rules, bool explicit_parens) {
    return tuple_of([&] { return parse_expression(with_condexpr); }, end_rules, explicit_parens);
  }

  ExprPtr tuple_of(const std::function<ExprPtr()>& parse_one, std::initializer_list<std::string_view> end_rules,
                   bool explicit_parens) {
    const SourcePos pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(end_rules)) break;
      items.push_back(parse_one());
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail(fmt::format("expected an expression, got '{}'", describe(cur())));
    }
    auto t = make(ExprKind::tuple, pos);
    t->args = std::move(items);
    return finish(std::move(t));
  }

  // --- expressions (lowest to highest precedence) ----------------------------------------
  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    DepthGuard guard(*this);  // `a if b else c if d else ...` recurses here for each else
    SourcePos pos = cur().pos;
    const size_t first_unresolved = unresolved_.size();
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      auto c = make(ExprKind::condexpr, pos);
      ExprPtr test = parse_or();
      ExprPtr otherwise = skip_name("else") ? parse_condexpr() : nullptr;
      c->args.push_back(std::move(test));
      c->args.push_back(std::move(expr1));
      c->args.push_back(std::move(otherwise));
      expr1 = finish(std::move(c));
      pos = cur().pos;
      // The whole inline if is a soft frame in jinja2, the value before "if" included.
      for (size_t k = first_unresolved; k < unresolved_.size(); ++k) unresolved_[k].soft = true;
    }
    return expr1;
  }

  ExprPtr binary(ExprKind kind, SourcePos pos, ExprPtr a, ExprPtr b, std::string op = {}) {
    auto e = make(kind, pos);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return finish(std::move(e));
  }

  ExprPtr parse_or() {
    const SourcePos pos = cur().pos;
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::or_, pos, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    const SourcePos pos = cur().pos;
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(ExprKind::and_, pos, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
    DepthGuard guard(*this);
    if (is_name("not")) {
      auto e = make(ExprKind::not_, next().pos);
      e->args.push_back(parse_not());
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    ExprPtr expr = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                     cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        op = next().value;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && look().type == Tok::name && look().value == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::compare, pos);
        cmp->args.push_back(std::move(expr));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(expr);
  }

  ExprPtr parse_math1() {
    const SourcePos pos = cur().pos;
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = next().value;
      left = binary(ExprKind::binary, pos, std::move(left), parse_concat(), op);
    }
    return left;
  }

  ExprPtr parse_concat() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto c = make(ExprKind::concat, pos);
    c->args.push_back(std::move(first));
    while (skip_op("~")) c->args.push_back(parse_math2());
    return finish(std::move(c));
  }

  ExprPtr parse_math2() {
    const SourcePos pos = cur().pos;
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = next().value;
      left = binary(ExprKind::binary, pos, std::move(left), parse_pow(), op);
    }
    return left;
  }

  ExprPtr parse_pow() {
    const SourcePos pos = cur().pos;
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary(ExprKind::binary, pos, std::move(left), parse_unary(true), "**");
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const Token t = next();
      node = make(t.value == "-" ? ExprKind::neg : ExprKind::pos, t.pos);
      node->args.push_back(parse_unary(false));
      node = finish(std::move(node));
    } else {
      node = parse_primary(false);
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary(bool with_namespace) {
    DepthGuard guard(*this);
    const Token& t = cur();
    if (t.type == Tok::name) {
      const Token tok = next();
      if (tok.value == "true" || tok.value == "True" || tok.value == "false" || tok.value == "False") {
        auto e = make(ExprKind::literal, tok.pos);
        e->literal = Value(tok.value == "true" || tok.value == "True");
        return e;
      }
      if (tok.value == "none" || tok.value == "None") {
        auto e = make(ExprKind::literal, tok.pos);
        e->literal = Value::none();
        return e;
      }
      if (with_namespace && is_op(".")) {
        next();
        auto e = make(ExprKind::nsref, tok.pos);
        e->name = tok.value;
        e->attr = expect_name();
        return e;
      }
      auto e = make(ExprKind::name, tok.pos);
      e->name = tok.value;
      return e;
    }
    if (t.type == Tok::string) {
      auto e = make(ExprKind::literal, t.pos);
      std::string s;
      while (cur().type == Tok::string) s += next().value;  // adjacent literals concatenate
      e->literal = Value(std::move(s));
      return e;
    }
    if (t.type == Tok::integer || t.type == Tok::floating) {
      auto e = make(ExprKind::literal, t.pos);
      e->literal = t.type == Tok::integer ? Value(t.int_value) : Value(t.float_value);
      next();
      return e;
    }
    if (is_op("(")) {
      next();
      ExprPtr e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      auto e = make(ExprKind::list, next().pos);
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(parse_expression(true));
      }
      expect_op("]");
      return finish(std::move(e));
    }
    if (is_op("{")) {
      auto e = make(ExprKind::dict, next().pos);
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
      }
      expect_op("}");
      return finish(std::move(e));
    }
    unexpected();
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) node = parse_filter(std::move(node), false);
      else if (is_name("is")) node = parse_test(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    DepthGuard guard(*this);
    const Token t = next();
    if (t.value == ".") {
      if (cur().type == Tok::name) {
        auto e = make(ExprKind::getattr, t.pos);
        e->target = std::move(node);
        e->name = next().value;
        return finish(std::move(e));
      }
      if (cur().type != Tok::integer) fail("expected name or number");
      auto e = make(ExprKind::getitem, t.pos);
      e->target = std::move(node);
      auto idx = make(ExprKind::literal, cur().pos);
      idx->literal = Value(next().int_value);
      e->args.push_back(std::move(idx));
      return finish(std::move(e));
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto e = make(ExprKind::getitem, t.pos);
    e->target = std::move(node);
    if (args.size() == 1) {
      e->args.push_back(std::move(args[0]));
    } else {
      auto tup = make(ExprKind::tuple, t.pos);
      tup->args = std::move(args);
      e->args.push_back(finish(std::move(tup)));
    }
    return finish(std::move(e));
  }

  ExprPtr parse_subscribed() {
    const SourcePos pos = cur().pos;
    std::vector<ExprPtr> parts;
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      ExprPtr node = parse_expression(true);
      if (!is_op(":")) return node;
      next();
      parts.push_back(std::move(node));
    }
    if (is_op(":") || is_op("]") || is_op(",")) parts.push_back(nullptr);
    else parts.push_back(parse_expression(true));
    if (skip_op(":")) {
      if (is_op("]") || is_op(",")) parts.push_back(nullptr);
      else parts.push_back(parse_expression(true));
    } else {
      parts.push_back(nullptr);
    }
    auto s = make(ExprKind::slice, pos);
    s->args = std::move(parts);
    return finish(std::move(s));
  }

  void parse_call_args(Expr& call) {
    const SourcePos pos = cur().pos;
    expect_op("(");
    bool require_comma = false;
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*") || is_op("**"))
        template_fail(ErrorCode::unsupported, cur().pos, "*args and **kwargs in calls are not supported");
      if (cur().type == Tok::name && look().type == Tok::op && look().value == "=") {
        std::string key = next().value;
        next();
        call.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!call.kwargs.empty())
          template_fail(ErrorCode::invalid_model_file, pos, "syntax error: invalid syntax for function call expression");
        call.args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    DepthGuard guard(*this);
    auto e = make(ExprKind::call, node->pos);  // errors point at the callee, not at "("
    e->target = std::move(node);
    parse_call_args(*e);
    return finish(std::move(e));
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      DepthGuard guard(*this);
      if (!start_inline) next();
      start_inline = false;
      const SourcePos pos = cur().pos;
      std::string name = expect_name();
      while (skip_op(".")) name += "." + expect_name();
      const FilterEntry* entry = find_filter(name);
      if (!entry) note_unresolved(name, pos, true);
      auto e = make(ExprKind::filter, pos);
      e->name = std::move(name);
      e->builtin = entry;
      e->target = std::move(node);
      if (is_op("(")) parse_call_args(*e);
      node = finish(std::move(e));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    DepthGuard guard(*this);
    next();  // "is"
    const bool negated = skip_name("not");
    const SourcePos pos = cur().pos;
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    const TestEntry* entry = find_test(name);
    if (!entry) note_unresolved(name, pos, false);
    auto e = make(ExprKind::test, pos);
    e->name = std::move(name);
    e->builtin = entry;
    e->negated = negated;
    e->target = std::move(node);
    const Token& t = cur();
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t.type == Tok::name || t.type == Tok::string || t.type == Tok::integer || t.type == Tok::floating ||
                is_op("(") || is_op("[") || is_op("{")) &&
               !(is_name("else") || is_name("or") || is_name("and"))) {
      if (is_name("is")) fail("you cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary(false)));
    }
    return finish(std::move(e));
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  bool soft_ = false;  // inside an if statement's test or bodies (jinja2's soft frame)
  std::vector<Unresolved> unresolved_;
};

void scan_expr(const Expr* e, MacroDef& def) {
  if (!e) return;
  if (e->kind == ExprKind::name) {
    if (e->name == "caller") def.uses_caller = true;
    if (e->name == "varargs") def.uses_varargs = true;
    if (e->name == "kwargs") def.uses_kwargs = true;
  }
  scan_expr(e->target.get(), def);
  for (const auto& a : e->args) scan_expr(a.get(), def);
  for (const auto& [k, v] : e->kwargs) scan_expr(v.get(), def);
}

void Parser::scan_special_names(const StmtList& body, MacroDef& def) {
  for (const auto& s : body) {
    for (const auto& e : s->exprs) scan_expr(e.get(), def);
    scan_expr(s->expr.get(), def);
    scan_expr(s->condition.get(), def);
    scan_special_names(s->body, def);
    scan_special_names(s->else_body, def);
    if (s->macro && s->kind == StmtKind::call_block) scan_special_names(s->macro->body, def);
  }
}

}  // namespace

StmtList parse_template(std::string_view source) { return Parser(lex_template(source)).parse_all(); }

}  // namespace ollm::chat_template
