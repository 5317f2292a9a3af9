// Chat-template engine on hostile and unusual input: jinja2's call-time resolution of unknown
// filters/tests, Markup escaping and generator results (where transformers' renderer differs from
// naive string handling), and the parse depth, work budget and size limits that keep hostile
// templates from crashing, hanging or exhausting memory (issue 13, sections 2b and 4).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <string>

#include "ollm/chat_template.hpp"
#include "ollm/error.hpp"

namespace {

struct Outcome {
  std::string text;     // the rendering, when it succeeded
  std::string error;    // the message, when it failed
  ollm::ErrorCode code = ollm::ErrorCode::ok;
};

Outcome render(const std::string& source, const ollm::ChatRequest& req) {
  Outcome o;
  try {
    o.text = ollm::ChatTemplate::parse(source).render(req);
  } catch (const ollm::Error& e) {
    o.error = e.what();
    o.code = e.code();
  }
  return o;
}

ollm::ChatRequest request() {
  ollm::ChatRequest req;
  req.messages = {{"user", "hi"}};
  std::tm now{};
  now.tm_year = 2025 - 1900;
  now.tm_mday = 1;
  req.now = now;
  return req;
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("an unknown filter or test fails only when an if reaches it, as jinja2 resolves them") {
  const auto req = request();
  // DeepSeek-V3.2/V4 call `from_json` only for string tool arguments, inside an if.
  CHECK(render("{% if false %}{{ x | from_json }}{% endif %}ok", req).text == "ok");
  CHECK(render("{% if true %}{% elif x %}{{ x | from_json }}{% else %}{{ x is nosuch }}{% endif %}ok", req).text == "ok");
  CHECK(render("{{ (x | from_json) if false else 'inline' }}", req).text == "inline");
  const Outcome reached = render("{% if true %}{{ '{}' | from_json }}{% endif %}", req);
  CHECK(reached.code == ollm::ErrorCode::invalid_argument);
  CHECK(reached.error == "[chat-template] line 1:24: no filter named 'from_json'");
  const Outcome test_reached = render("\n{% if 1 is nosuch %}{% endif %}", req);
  CHECK(test_reached.error == "[chat-template] line 2:12: no test named 'nosuch'");
  // jinja2 knows the filter but ollm does not implement it: "not supported", when reached.
  CHECK(render("{% if false %}{{ x | urlize }}{% endif %}ok", req).text == "ok");
  CHECK(render("{% if true %}{{ 'x' | urlize }}{% endif %}", req).code == ollm::ErrorCode::unsupported);
  // Outside an if (or inside a loop, macro or block, which open their own frames in jinja2) the
  // template is refused when parsed, as jinja2's compiler does.
  CHECK(render("{{ 1 | from_json }}", req).code == ollm::ErrorCode::invalid_model_file);
  CHECK(render("{% if false %}{% for x in [] %}{{ x | from_json }}{% endfor %}{% endif %}", req).code ==
        ollm::ErrorCode::invalid_model_file);
  CHECK(render("{% if false %}{% macro m() %}{{ 1 | from_json }}{% endmacro %}{% endif %}", req).code ==
        ollm::ErrorCode::invalid_model_file);
}

TEST_CASE("Markup from |safe and |escape escapes what is added to it, as markupsafe does") {
  const auto req = request();
  // functionary-medium-v3.1: `"...'"|safe + name + ... + t | tojson()`: transformers' tojson gives a
  // plain str, so Markup.__add__ escapes its quotes.
  CHECK(render(R"({{ "f '"|safe + "x" + "'\n"|safe + {"k": "v"}|tojson }})", req).text ==
        "f 'x'\n{&#34;k&#34;: &#34;v&#34;}");
  CHECK(render(R"({{ '"' + '<'|safe }}|{{ '%s & %s'|safe % ('<a>', 1) }}|{{ ('<'|e) * 2 }})", req).text ==
        "&#34;<|&lt;a&gt; & 1|&lt;&lt;");
  CHECK(render(R"({{ '<'|e|e }} {{ '<'|forceescape|forceescape }} {{ '"' ~ ('x'|safe) ~ '"' }})", req).text ==
        "&lt; &amp;lt; \"x\"");  // ~ joins to a plain str
  CHECK(render(R"({{ ('<b>'|safe).upper() }} {{ ('a'|safe).replace('a', '<') }} {{ ('x'|safe).center(5, '*') }} {{ (' <x> '|safe).strip() + '<' }})", req)
            .text == "<B> &lt; **x** <x>&lt;");
}

TEST_CASE("select, map and friends give generators: nothing from None, refused by tojson") {
  const auto req = request();
  // functionary-medium-v3.1 with tools=None: `tools | selectattr("type", "equalto", "x") | list`.
  CHECK(render("{{ none | selectattr('type', 'equalto', 'x') | list | length }}", req).text == "0");
  CHECK(render("{{ none | map(attribute='x') | list }}{{ '' | reject | list }}{{ none | select('nosuchtest') | list }}", req)
            .text == "[][][]");
  // llama.cpp's deepseek-r1 template: `tools | map(attribute='function') | tojson(indent=2)`.
  const Outcome gen = render("{{ [{'function': 1}] | map(attribute='function') | tojson(indent=2) }}", req);
  CHECK(gen.code == ollm::ErrorCode::invalid_argument);
  CHECK(gen.error.find("Object of type generator is not JSON serializable") != std::string::npos);
  CHECK(render("{{ [3, 1] | reverse | tojson }}", req).error.find("list_reverseiterator is not JSON") != std::string::npos);
  CHECK(render("{{ [{'f': 1}] | map(attribute='f') | list | tojson }}", req).text == "[1]");
  // A generator is true even when it would yield nothing, has no len() and no items by index.
  CHECK(render("{{ 'y' if [] | select else 'n' }} {{ [] | select is sequence }} {{ [1] | select is iterable }}", req).text ==
        "y False True");
  CHECK(render("{{ [1] | select | length }}", req).error.find("object of type 'generator' has no len()") !=
        std::string::npos);
  CHECK(render("[{{ ([1] | select)[0] }}]", req).text == "[]");
}

TEST_CASE("deep expressions and blocks are refused while parsing, never crash") {
  const auto req = request();
  // One long + chain and a 140,000-filter chain overflowed the stack when the tree was freed.
  const Outcome plus = render("{{ " + repeat("1+", 150000) + "1 }}", req);
  CHECK(plus.code == ollm::ErrorCode::invalid_argument);
  CHECK(plus.error.find("expression nests deeper than 300 levels") != std::string::npos);
  const Outcome filters = render("{{ 1" + repeat("|abs", 140000) + " }}", req);
  CHECK(filters.error.find("expression nests deeper than 300 levels") != std::string::npos);
  CHECK(render("{{ x" + repeat(".a", 100000) + " }}", req).error.find("nests deeper") != std::string::npos);
  CHECK(render("{{ x" + repeat("()", 100000) + " }}", req).error.find("nests deeper") != std::string::npos);
  CHECK(render("{{ " + repeat("x if x else ", 100000) + "1 }}", req).error.find("nests deeper") != std::string::npos);
  // 300 terms still render (jinja2 itself renders 300 and fails at 500).
  CHECK(render("{{ " + repeat("1+", 299) + "1 }}", req).text == "300");
  // 50,000 nested ifs: the block depth limit, after a linear lex.
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome ifs = render(repeat("{% if true %}", 50000), req);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(ifs.error.find("template nests deeper than 200 levels") != std::string::npos);
  MESSAGE(fmt::format("50,000 nested ifs refused in {:.3f} s", seconds));
}

TEST_CASE("a long one-line template lexes and parses in linear time") {
  const auto req = request();
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome o = render(repeat("x{{ 1 }}", 40000), req);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(o.error.empty());
  CHECK(o.text == repeat("x1", 40000));
  MESSAGE(fmt::format("'x{{{{ 1 }}}}' * 40000 parsed and rendered in {:.3f} s", seconds));  // printed, never asserted
  // Positions stay exact far along one line (the column is carried from token to token).
  const Outcome late = render(repeat("é", 5000) + "{{ 1 + 'a' }}", req);
  CHECK(late.error.find("line 1:5004:") != std::string::npos);
}

TEST_CASE("the work budget stops runaway recursion that stays under the depth limits") {
  auto req = request();
  const Outcome o = render("{% macro f(n) %}{% if n < 40 %}{{ f(n+1) }}{{ f(n+1) }}{% endif %}{% endmacro %}{{ f(0) }}", req);
  CHECK(o.code == ollm::ErrorCode::invalid_argument);
  CHECK(o.error.find("exceeded its work budget of 50000000 steps") != std::string::npos);
  // Quadratic builtins are charged per item they scan.
  CHECK(render("{{ range(100000) | unique | list | length }}", req).error.find("work budget") != std::string::npos);
  CHECK(render("{% set r = range(100000) | list %}{% for i in range(100000) %}{% if -1 in r %}{% endif %}{% endfor %}", req)
            .error.find("work budget") != std::string::npos);
  req.limits.max_work = 1000;
  CHECK(render("{% for i in range(2000) %}{% endfor %}", req).error.find("work budget of 1000") != std::string::npos);
  CHECK(render("{% for i in range(10) %}{{ i }}{% endfor %}", req).text == "0123456789");
}

TEST_CASE("sizes are checked against the output limit before anything is built") {
  auto req = request();
  // indent(10000000000) allocated ~23 GB before any check.
  const Outcome indent = render("{{ 'a\\nb' | indent(10000000000) }}", req);
  CHECK(indent.code == ollm::ErrorCode::invalid_argument);
  CHECK(indent.error.find("indent(10000000000) would produce more than 67108864 bytes (the output limit)") !=
        std::string::npos);
  // center() clamped silently to 1048576: now exact within the limit, an error naming it past it.
  CHECK(render("{{ 'ab' | center(2000000) | length }} {{ 'ab'.center(2000001, '*') | length }}", req).text ==
        "2000000 2000001");
  CHECK(render("{{ 'x' | center(100000000) }}", req).error.find("center(100000000) would produce more than 67108864") !=
        std::string::npos);
  CHECK(render("{{ 'x'.center(100000000) }}", req).error.find("str.center(100000000)") != std::string::npos);
  // strftime_now('%Y' * 1000000) rendered empty: now the 4,000,000 characters, or an error.
  CHECK(render("{{ strftime_now('%Y' * 1000000) | length }} {{ strftime_now('%Y-') }}", req).text == "4000000 2025-");
  CHECK(render("[{{ strftime_now('') }}]", req).text == "[]");
  CHECK(render("{{ 'x' * 100000000 }}", req).error.find("string repetition * 100000000 would produce more") !=
        std::string::npos);
  CHECK(render("{{ ('a' * 1000000) | replace('', 'x' * 1000) }}", req).error.find("replace would produce more") !=
        std::string::npos);
  CHECK(render("{{ 'ab'.replace('a', 'y' * 100000000) }}", req).code == ollm::ErrorCode::invalid_argument);
  CHECK(render("{{ {'a': 1} | tojson(indent=10000000000) }}", req).error.find("tojson(indent=10000000000)") !=
        std::string::npos);
  CHECK(render("{{ [1] | batch(100000000000, 0) | list }}", req).error.find("batch(100000000000) with fill_with") !=
        std::string::npos);
  CHECK(render("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", req)
            .error.find("list concatenation beyond 8388608 items") != std::string::npos);
  CHECK(render("{{ [9223372036854775807, 1] | sum }}", req).code == ollm::ErrorCode::unsupported);
  // Lists are bounded by the output limit too (one item per 8 bytes), before they are built.
  CHECK(render("{% for c in 'x' * 60000000 %}{% endfor %}", req).error.find("iterating a string of 60000000 characters") !=
        std::string::npos);
  CHECK(render("{{ (',' * 30000000).split(',') | length }}", req).error.find("split into 30000001 pieces") !=
        std::string::npos);
  CHECK(render("{{ [0] * 9000000 }}", req).error.find("list repetition beyond 8388608 items") != std::string::npos);
  req.limits.max_output_bytes = 1000;
  CHECK(render("{{ strftime_now('%Y' * 300) }}", req).error.find("exceeds the output limit of 1000 bytes") !=
        std::string::npos);
  CHECK(render("{{ 'x' | indent(2000) }}", req).error.find("indent(2000)") != std::string::npos);
  CHECK(render("{{ ('x\\n' * 300) | indent(2) }}", req).error.find("indent of") != std::string::npos);
}
