#!/usr/bin/env python3
"""Writes the chat-template goldens the C++ tests compare against (run once; tests never need Python).

  pip install transformers jinja2 tokenizers   # CPU-only is enough: no torch needed for tokenize=False
  python3 scripts/reference/make_chat_template_goldens.py [--shared ../shared]

Outputs, under tests/data/chat_templates/:
  goldens.jsonl         real templates x conversations, rendered by transformers' apply_chat_template
  engine_goldens.jsonl  small templates exercising one Jinja feature each, rendered by the very Jinja
                        environment transformers compiles (trim_blocks, lstrip_blocks, sandbox, tojson...)
strftime_now is pinned to 2025-03-14 15:09:26 so date-dependent output is reproducible; the C++ side
passes the same time through ChatRequest::now.
"""
import argparse
import datetime as real_datetime
import json
import os
import sys
import tarfile
import tempfile
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402
from transformers.utils import chat_template_utils  # noqa: E402

FIXED_NOW = real_datetime.datetime(2025, 3, 14, 15, 9, 26)


class FixedDatetime(real_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


chat_template_utils.datetime = FixedDatetime  # strftime_now() reads the module's `datetime`

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(ROOT, "tests", "data", "chat_templates")

# name -> (tokenizer archive in shared/testdata/tokenizers, template file under tests/data/chat_templates or None
# to use the archive's own tokenizer_config.json chat_template)
TEMPLATES = {
    "llama3": ("llama3", None),
    "qwen3": ("qwen3", None),
    "deepseek-v3": ("deepseek-v3", None),
    "gemma3": ("gemma3", None),
    "mistral-nemo": ("sentencepiece-32k", "mistral-nemo.jinja"),
    "gpt-oss": ("gpt-oss", "gpt-oss.jinja"),
    "llama3.1": ("llama3", "llama3.1.jinja"),
    # Templates that once rendered differently from transformers (issue 13): from_json in an untaken
    # branch (DeepSeek), Markup escaping and selectattr on None (functionary), tojson of a generator
    # (llama.cpp's deepseek-r1, which transformers refuses with tools).
    "deepseek-v3.2": ("deepseek-v3", "deepseek-v3.2.jinja"),
    "deepseek-v4": ("deepseek-v3", "deepseek-v4.jinja"),
    "functionary-medium-v3.1": ("llama3", "functionary-medium-v3.1.jinja"),
    "llamacpp-deepseek-r1": ("deepseek-v3", "llamacpp-deepseek-r1.jinja"),
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
                "days": {"type": "integer", "description": "Forecast days", "default": 1},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["location"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web — returns «snippets»",
        "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "What to look for"}},
                       "required": ["query"]},
    },
}


def tool_call(args_as_string):
    args = {"location": "Paris", "unit": "celsius"}
    return {"id": "call12345", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps(args) if args_as_string else args}}


CONVERSATIONS = [
    ("user_only", [{"role": "user", "content": "Hello!"}], {}),
    ("system_user", [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What is 2+2?"}], {}),
    ("multi_turn", [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}], {}),
    ("multi_turn_ends_assistant", [{"role": "user", "content": "Ping"},
                                   {"role": "assistant", "content": "Pong"}], {}),
    ("unicode", [{"role": "user", "content": "  Привет 👋🏽 — 日本語 «quotes» \"dq\" 'sq' \\ back\ttab\nnew line  "},
                 {"role": "assistant", "content": "Ça va? 🇫🇷 e\u0301 \u200b zero-width"},
                 {"role": "user", "content": "🧑‍💻 {{ not a template }} {% raw %}"}], {}),
    ("empty_content", [{"role": "user", "content": ""}, {"role": "assistant", "content": ""},
                       {"role": "user", "content": "again"}], {}),
    ("null_fields", [{"role": "user", "content": "Hi", "name": None},
                     {"role": "assistant", "content": "Yo", "tool_calls": None},
                     {"role": "user", "content": "ok"}], {}),
    ("content_parts", [{"role": "user", "content": [{"type": "text", "text": "Describe this:"},
                                                    {"type": "image"},
                                                    {"type": "text", "text": " thanks"}]}], {}),
    ("tools_call_dict_args", [{"role": "system", "content": "Use tools when helpful."},
                              {"role": "user", "content": "Weather in Paris?"},
                              {"role": "assistant", "content": "", "tool_calls": [tool_call(False)]},
                              {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
                               "content": "{\"temperature\": 18, \"sky\": \"clear\"}"},
                              {"role": "assistant", "content": "It is 18°C and clear."},
                              {"role": "user", "content": "Thanks"}], {"tools": True}),
    ("tools_call_string_args", [{"role": "user", "content": "Weather in Paris?"},
                                {"role": "assistant", "content": None, "tool_calls": [tool_call(True)]},
                                {"role": "tool", "tool_call_id": "call12345", "content": "18C"}], {"tools": True}),
    ("tools_only_defined", [{"role": "user", "content": "What can you do?"}], {"tools": True}),
    ("reasoning_content", [{"role": "user", "content": "Solve 3*7"},
                           {"role": "assistant", "reasoning_content": "3 times 7 is 21.", "content": "21"},
                           {"role": "user", "content": "And 4*5?"},
                           {"role": "assistant", "reasoning_content": "4*5=20", "content": "20"}], {}),
    ("think_in_content", [{"role": "user", "content": "Q1"},
                          {"role": "assistant", "content": "<think>\nhidden\n</think>\n\nA1"},
                          {"role": "user", "content": "Q2"}], {}),
    ("enable_thinking_false", [{"role": "user", "content": "Quick answer please"}], {"extra": {"enable_thinking": False}}),
    ("roles_not_alternating", [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}], {}),
    ("starts_with_assistant", [{"role": "assistant", "content": "I speak first"},
                               {"role": "user", "content": "ok"}], {}),
    ("developer_and_effort", [{"role": "developer", "content": "Answer in French."},
                              {"role": "user", "content": "Hello"}],
     {"extra": {"reasoning_effort": "high", "model_identity": "You are a test model."}}),
    ("thinking_field", [{"role": "user", "content": "Hi"},
                        {"role": "assistant", "thinking": "The user greets me.", "content": "Hello!"}], {}),
    ("builtin_tools_and_date", [{"role": "user", "content": "Search the news"}],
     {"tools": True, "extra": {"builtin_tools": ["browser", "python"], "date_string": "01 Jan 2025"}}),
    ("tool_without_call", [{"role": "user", "content": "x"}, {"role": "tool", "content": "orphan"}], {}),
]


def load_template(name, shared):
    archive, template_file = TEMPLATES[name]
    path = os.path.join(shared, "testdata", "tokenizers", f"{archive}.tar.xz")
    tmp = tempfile.mkdtemp(prefix="ollm-goldens-")
    with tarfile.open(path) as tar:
        tar.extractall(tmp)
    tok = AutoTokenizer.from_pretrained(os.path.join(tmp, archive))
    template = None
    if template_file:
        with open(os.path.join(OUT_DIR, template_file), encoding="utf-8") as f:
            template = f.read()
    return tok, template


def render_case(tok, template, messages, opts, agp):
    tools = [WEATHER_TOOL, SEARCH_TOOL] if opts.get("tools") else None
    extra = opts.get("extra", {})
    try:
        text = tok.apply_chat_template(messages, tools=tools, chat_template=template, add_generation_prompt=agp,
                                       tokenize=False, **extra)
        return {"expected": text}
    except Exception as e:  # the template (or transformers) refused: the C++ side must refuse too
        return {"error": f"{type(e).__name__}: {e}"}


def make_goldens(shared):
    rows = []
    for name in TEMPLATES:
        tok, template = load_template(name, shared)
        special = dict(tok.special_tokens_map)
        for case, messages, opts in CONVERSATIONS:
            for agp in (False, True):
                row = {"template": name, "case": case, "messages": messages,
                       "tools": [WEATHER_TOOL, SEARCH_TOOL] if opts.get("tools") else None,
                       "add_generation_prompt": agp, "extra": opts.get("extra", {}), "special_tokens": special}
                row.update(render_case(tok, template, messages, opts, agp))
                rows.append(row)
    return rows


# One Jinja feature per template. `vars` are passed to render() as keyword arguments.
ENGINE_CASES = [
    ("text", "plain text\n", {}),
    ("trailing_newline", "a\n\n", {}),
    ("crlf", "a\r\nb\rc\r\n", {}),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip_blocks", "  {% if true %}\n    x\n  {% endif %}\n", {}),
    ("lstrip_not_var", "  {{ 'v' }}  \n", {}),
    ("lstrip_after_text", "a  {% if true %}b{% endif %}", {}),
    ("minus_strip", "a   \n  {%- if true -%}  \n  b  \n  {%- endif -%}   c", {}),
    ("plus_keep", "  {%+ if true +%}\nx{% endif %}", {}),
    ("var_minus", "a \n {{- 'b' -}} \n c", {}),
    ("comment", "a {# hidden #} b\n  {# own line #}\nc{#- strip -#}  d", {}),
    ("raw", "{% raw %}{{ not }} {% evaluated %}{% endraw %}!", {}),
    ("raw_strip", "x  {%- raw -%}  inside  {%- endraw -%}  y", {}),
    ("if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                      "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("for_prev_next", "{% for x in [1,2,3] %}[{{ loop.previtem }}/{{ loop.nextitem }}]{% endfor %}", {}),
    ("for_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", {}),
    ("for_changed", "{% for x in [1,1,2,2,1] %}{{ loop.changed(x) }} {% endfor %}", {}),
    ("for_if_filter", "{% for x in range(10) if x is odd %}{{ x }}:{{ loop.index }} {% endfor %}", {}),
    ("for_else", "{% for x in [] %}never{% else %}empty{% endfor %}", {}),
    ("for_dict", "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}", {}),
    ("for_items_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"x": 1, "y": [1, 2]}}),
    ("for_string", "{% for c in 'héllo' %}[{{ c }}]{% endfor %}", {}),
    ("for_undefined", "{% for x in nothing %}x{% else %}none{% endfor %}", {}),
    ("break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("nested_loops", "{% for a in [1,2] %}{% for b in [3,4] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("set_scope_loop", "{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("set_scope_if", "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}", {}),
    ("set_tuple", "{% set a, b = 1, 'two' %}{{ a }}{{ b }}{% set c, d = [3, 4] %}{{ c + d }}", {}),
    ("namespace", "{% set ns = namespace(count=0, found=false) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }} {{ ns.found }}", {}),
    ("namespace_empty", "{% set ns = namespace() %}{% set ns.x = 'v' %}{{ ns.x }}", {}),
    ("set_block", "{% set body %}  Hello {{ name }}  {% endset %}[{{ body }}]", {"name": "Ann"}),
    ("set_block_filter", "{% set body | upper | trim %}  hello  {% endset %}[{{ body }}]", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }}", {}),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("macro_sees_globals", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ top }}{% endmacro %}{{ m() }}", {"top": "T"}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}", {}),
    ("filter_block", "{% filter upper %}shout {{ 'it' }}{% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}", {}),
    ("generation_tag", "{% generation %}gen {{ 1 }}{% endgeneration %}", {}),
    ("arith", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** -1 }}", {}),
    ("unary", "{{ -3 }} {{ +3 }} {{ -(1 + 2) }} {{ - 1|abs }} {{ not true }} {{ not none }}", {}),
    ("floats", "{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5e-7 }} {{ 123456789.123 }} {{ 3.0 * 2 }} {{ 1 / 3 }} {{ 2.5e300 }}", {}),
    ("int_literals", "{{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 12.5_0 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ undefined_thing }}", {}),
    ("string_plus", "{{ 'a' + 'b' }} {{ [1] + [2, 3] }} {{ 'ab' * 3 }} {{ [0] * 3 }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ none == none }} {{ 'a' != 'b' }} {{ 2 >= 2 }} {{ 1 <= 0 }}", {}),
    ("in_notin", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [1] }} {{ 'x' in nothing }}", {}),
    ("and_or", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'z' }} {{ none or none }} {{ [] or {} }} {{ true and false or true }}", {}),
    ("condexpr", "{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'x' if false }}] {{ 'a' if false else 'b' if true else 'c' }}", {}),
    ("literals", "{{ [1, 'two', 3.0, none, true, [false]] }} {{ {'a': 1, 'b': {'c': none}} }} {{ (1, 2) }} {{ (1,) }} {{ () }} {{ 'adj' 'acent' }}", {}),
    ("str_repr", "{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"', 'nl\\n', 'tab\\t', 'uni é 👋', '\\x01'] }}", {}),
    ("escapes", "{{ 'a\\nb\\tc\\\\d\\'e\\u00e9\\x41\\U0001F600\\q' }}", {}),
    ("subscript", "{{ xs[0] }} {{ xs[-1] }} {{ d['k'] }} {{ d.k }} {{ xs.1 }} {{ 'héllo'[1] }} {{ d['missing'] }}|{{ xs[10] }}|", {"xs": [1, 2, 3], "d": {"k": "v"}}),
    ("slices", "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ 'héllo'[1:3] }} {{ 'abc'[::-1] }} {{ xs[5:] }} {{ xs[:100] }} {{ (1, 2, 3)[1:] }}", {"xs": [1, 2, 3, 4]}),
    ("attr_vs_item", "{{ d.items is defined }} {{ d['items'] }} {{ d.get('items') }} {{ d.keys() | list }}", {"d": {"items": "I", "x": 1}}),
    ("undefined_print", "[{{ nothing }}] [{{ d.missing }}] [{{ nothing is defined }}] [{{ d.missing is defined }}] [{{ nothing|length }}]", {"d": {}}),
    ("undefined_default", "{{ nothing|default('dflt') }} {{ ''|default('e', true) }} {{ ''|default('e') }} {{ none|default('n') }} {{ none|d('n', true) }} {{ 0|default(5, boolean=true) }}", {}),
    ("undefined_eq", "{{ nothing == nothing }} {{ nothing == none }} {{ nothing != 1 }} {{ not nothing }}", {}),
    ("none_print", "{{ none }} {{ None }} {{ True }} {{ false }} {{ [none] }}", {}),
    ("tests_types", "{{ 1 is number }} {{ true is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ nothing is iterable }} {{ [] is sequence }} {{ {} is sequence }} {{ none is none }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ range is callable }}", {}),
    ("tests_values", "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 3 is eq 3 }} {{ 3 is equalto 4 }} {{ 3 is ne 4 }} {{ 1 is lt 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} {{ 1 is le 0 }} {{ 'a' is in 'abc' }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ none is sameas none }} {{ x is not defined }} {{ 'upper' is filter }} {{ 'odd' is test }}", {}),
    ("filter_trim", "[{{ '  a b  '|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '\\n\\t a \\u3000'|trim }}]", {}),
    ("filter_case", "{{ 'hello wORLD'|upper }} {{ 'HeLLo'|lower }} {{ 'hello wORLD'|capitalize }} {{ 'hello wORLD-foo (bar)'|title }} {{ 'ÉCOLE straße'|lower }} {{ 'straße é'|upper }}", {}),
    ("filter_length", "{{ 'héllo'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }} {{ ''|length }}", {}),
    ("filter_join", "{{ [1, 2, 3]|join(', ') }} {{ ['a', 'b']|join }} {{ users|join(',', attribute='name') }}", {"users": [{"name": "x"}, {"name": "y"}]}),
    ("filter_replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }}", {}),
    ("filter_first_last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} [{{ []|first }}]", {}),
    ("filter_list_string", "{{ 'abc'|list }} {{ {'a': 1}|list }} {{ 12|string }} {{ [1, 'a']|string }} {{ none|string }}", {}),
    ("filter_int_float", "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '0x1A'|int(0, 16) }} {{ '3.5'|float }} {{ 'x'|float }} {{ 2|float }} {{ true|int }}", {}),
    ("filter_abs_round", "{{ -3|abs }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 1.2345|round(2, 'floor') }} {{ 1.2345|round(1, 'ceil') }} {{ 7|round }}", {}),
    ("filter_tojson", "{{ d|tojson }} {{ d|tojson(indent=2) }} {{ 'é\"<>&\\n'|tojson }} {{ 'é'|tojson(ensure_ascii=true) }} {{ [1.0, 2.5, none, true]|tojson }} {{ d|tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }} {{ d|tojson(indent='\\t') }} {{ ('t', 1)|tojson }}", {"d": {"a": [1, {"b": None}], "c": "x"}}),
    ("filter_tojson_unicode", "{{ s|tojson }} {{ s|tojson(ensure_ascii=true) }}", {"s": "日本 👋🏽 \u0001 \u007f"}),
    ("filter_items_dictsort", "{{ d|items|list }} {{ d|dictsort }} {{ d|dictsort(by='value') }} {{ d|dictsort(reverse=true) }}", {"d": {"b": 2, "a": 3, "C": 1}}),
    ("filter_sort", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ users|sort(attribute='age')|map(attribute='name')|list }}", {"users": [{"name": "x", "age": 30}, {"name": "y", "age": 20}]}),
    ("filter_unique_reverse", "{{ [1, 2, 1, 3]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }}", {}),
    ("filter_map_select", "{{ users|map(attribute='name')|list }} {{ ['a', 'b']|map('upper')|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ users|selectattr('admin')|map(attribute='name')|list }} {{ users|rejectattr('admin')|list|length }} {{ users|selectattr('name', 'equalto', 'y')|list }} {{ [0, 1, '', 'a']|select|list }} {{ users|map(attribute='missing', default='?')|list }}", {"users": [{"name": "x", "admin": True}, {"name": "y", "admin": False}]}),
    ("filter_min_max_sum", "{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ [1, 2, 3]|sum }} {{ users|sum(attribute='n') }} {{ ['b', 'A']|max }}", {"users": [{"n": 1}, {"n": 2.5}]}),
    ("filter_indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x'|indent('> ') }}", {}),
    ("filter_misc", "{{ 'a b  c'|wordcount }} {{ 'ab'|center(6) }}| {{ '<a>&'|e }} {{ '<b>'|safe }} {{ '%s-%d'|format('x', 3) }} {{ 'long sentence here'|truncate(9) }} {{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ d|attr('keys') is defined }}", {"d": {"keys": 1}}),
    ("str_methods", "{{ s.upper() }} {{ s.lower() }} {{ s.title() }} {{ s.capitalize() }} {{ s.startswith('He') }} {{ s.endswith(('x', 'ld')) }} {{ s.split() }} {{ s.split('l') }} {{ s.split('l', 1) }} {{ s.rsplit('l', 1) }} {{ s.replace('l', 'L') }} {{ s.find('o') }} {{ s.count('l') }}", {"s": "Hello world"}),
    ("str_strip_methods", "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ '--x--'.strip('-') }}] [{{ 'xyx'.lstrip('x') }}] [{{ '\\n\\nA\\n'.strip('\\n') }}]", {"s": "  \tpad \n"}),
    ("str_format", "{{ '{} + {} = {}'.format(1, 2, 3) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ '{:>5}|{:<4}|{:^6}'.format('r', 'l', 'c') }} {{ '{:.2f} {:5d} {:05.1f} {!r}'.format(3.14159, 42, 2.5, 'q') }} {{ '{{}}'.format() }}", {}),
    ("str_percent", "{{ '%s and %s' % ('a', 'b') }} {{ '%d%%' % 50 }} {{ '%.2f' % 1.005 }} {{ '%5s|%-5s|' % ('r', 'l') }} {{ '%(x)s' % {'x': 1} }}", {}),
    ("str_misc_methods", "{{ ','.join(['a', 'b']) }} {{ 'a-b-c'.partition('-') }} {{ 'abc'.removeprefix('a') }} {{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'x'.center(5, '*') }}", {}),
    ("dict_methods", "{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 0) }} {{ d.items()|list }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items() }}", {"d": {"a": 1, "b": [2]}}),
    ("list_methods", "{{ xs.index(2) }} {{ xs.count(1) }}", {"xs": [1, 2, 1]}),
    ("globals", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", {}),
    ("cycler_joiner", "{% set c = cycler('x', 'y') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }} {% set j = joiner('|') %}{% for i in range(3) %}{{ j() }}{{ i }}{% endfor %}", {}),
    ("strftime", "{{ strftime_now('%Y-%m-%d %H:%M:%S') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %B %-d') }}", {}),
    ("print_stmt", "{% print 'p' ~ 1 %}", {}),
    ("messages_like", "{% for m in messages %}<|{{ m.role }}|>{{ m['content'] | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}", {"messages": [{"role": "user", "content": " hi "}, {"role": "assistant", "content": "yo"}], "add_generation_prompt": True}),
    ("whitespace_heavy", "{%- for m in ms %}\n  {%- if m %}\n    {{- m }}\n  {%- endif %}\n{%- endfor %}\n\n{{ 'end' }}\n", {"ms": ["a", "", "b"]}),
    ("line_statement_like", "# not a line statement\n## {{ 1 }}", {}),
    # errors (Jinja raises; ollm must refuse as well)
    ("err_raise_exception", "{{ raise_exception('custom failure: ' ~ 42) }}", {}),
    ("err_undefined_attr", "{{ nothing.attr }}", {}),
    ("err_undefined_arith", "{{ nothing + 1 }}", {}),
    ("err_missing_key_chain", "{{ d.a.b }}", {"d": {}}),
    ("err_type_add", "{{ 1 + 'a' }}", {}),
    ("err_div_zero", "{{ 1 / 0 }}", {}),
    ("err_not_callable", "{{ 'x'() }}", {}),
    ("err_unknown_filter", "{{ 1|no_such_filter }}", {}),
    ("err_unknown_test", "{{ 1 is no_such_test }}", {}),
    ("err_syntax_unclosed", "{% if true %}no end", {}),
    ("err_syntax_expr", "{{ 1 + }}", {}),
    ("err_unknown_tag", "{% frobnicate %}", {}),
    ("err_list_append", "{% set xs = [] %}{{ xs.append(1) }}", {}),
    ("err_range_too_big", "{{ range(100001)|length }}", {}),
    ("err_tojson_undefined", "{{ nothing|tojson }}", {}),
    ("err_unpack", "{% set a, b = [1, 2, 3] %}", {}),
    ("err_ns_underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}", {}),
    ("err_compare_types", "{{ 1 < 'a' }}", {}),
    ("err_break_outside", "{% break %}", {}),
    ("err_macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("err_unterminated_comment", "{# never closed", {}),
    ("err_string_in_int", "{{ 'a' in 1 }}", {}),
]


def make_engine_goldens():
    rows = []
    for name, source, variables in ENGINE_CASES:
        row = {"name": name, "template": source, "vars": variables}
        try:
            row["expected"] = chat_template_utils._compile_jinja_template(source).render(**variables)
        except Exception as e:
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {os.path.relpath(path, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"), help="the shared/ folder")
    args = ap.parse_args()
    print(f"transformers {transformers.__version__}, jinja2 {__import__('jinja2').__version__}", file=sys.stderr)
    write_jsonl(os.path.join(OUT_DIR, "engine_goldens.jsonl"), make_engine_goldens())
    write_jsonl(os.path.join(OUT_DIR, "goldens.jsonl"), make_goldens(args.shared))


if __name__ == "__main__":
    main()
