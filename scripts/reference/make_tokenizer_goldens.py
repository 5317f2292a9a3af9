#!/usr/bin/env python3
# Builds the tokenizer golden files under tests/data/tokenizers/goldens from the Hugging Face
# `tokenizers` library. Run once by a developer (pip install tokenizers); the tests never need it.
#
#   python3 scripts/reference/make_tokenizer_goldens.py --tokenizers DIR [--minilm DIR] [--out DIR]
#
# DIR holds the extracted ../shared/testdata/tokenizers archives (<name>/tokenizer.json). The corpus
# is generated deterministically (seeded) from the fragment lists below, so it is not committed
# as text beyond the golden files themselves. Output (JSON lines, one object per text):
#   corpus.jsonl            {"text": ...}
#   <name>.jsonl            {"ids": [...], "ids_plain": [...], "ids_nospecial": [...],
#                            "decoded": "...", "decoded_skip": "..."}
# where ids = encode(text, add_special_tokens=True), ids_plain = add_special_tokens=False,
# ids_nospecial = add_special_tokens=True with special-token strings NOT parsed
# (tokenizer.encode_special_tokens = True), decoded = decode(ids, skip_special_tokens=False),
# decoded_skip = decode(ids, skip_special_tokens=True). Everything is packed into goldens.tar.xz.
import argparse
import io
import json
import os
import random
import tarfile

from tokenizers import Tokenizer

SEED = 20261122
N_RANDOM = 2200

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
    "I'm sure they'll say we've done what we'd planned: DON'T PANIC, it's FINE.",
    "Le cœur a ses raisons que la raison ne connaît point. Où est l'hôtel ? À bientôt !",
    "Größere Straßen führen über die Brücke; Äpfel, Öl und Übermut.",
    "¿Dónde está la biblioteca? ¡Mañana será otro día, señor Muñoz!",
    "Tiếng Việt có nhiều dấu: người, được, những, chữ Quốc ngữ.",
    "İstanbul'da ılık bir akşam; IĞDIR ve ıspanak. Şişli, Çağlayan.",
    "Zażółć gęślą jaźń. Łódź jest piękna.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Україна — це держава у Східній Європі. Ґанок, їжак, є.",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΟΔΥΣΣΕΥΣ και ὁ Ὀδυσσεύς.",
    "العربية لغة جميلة، وهي لغة القرآن الكريم. مرحبا بالعالم!",
    "שלום עולם! עברית נכתבת מימין לשמאל.",
    "हिन्दी भारत की राजभाषा है। नमस्ते दुनिया, क्षत्रिय ज्ञान।",
    "বাংলা ভাষা অত্যন্ত সমৃদ্ধ।",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ",
    "中文是世界上使用人数最多的语言之一。你好，世界！",
    "日本語の文章には、ひらがな・カタカナ・漢字が混ざります。ｶﾀｶﾅ",
    "한국어는 한글로 씁니다. 안녕하세요, 세계!",
    "ኢትዮጵያ በአፍሪካ ቀንድ የምትገኝ ሀገር ናት።",
    "ქართული ენა უნიკალური დამწერლობით.",
    "Հայերենը հնդեվրոպական լեզու է։",
    "தமிழ் ஒரு தொன்மையான மொழி.",
    "Ελληνικά: ΣΊΣΥΦΟΣ σίσυφος, Σ at the end ΟΣ.",
]
CODE = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "#include <vector>\nint main() {\n\tstd::vector<int> v{1, 2, 3};\n\treturn v.size() > 2 ? 0 : 1;\n}\n",
    "{\"name\": \"ollm\", \"version\": [0, 1, 0], \"nested\": {\"ok\": true, \"x\": null}}",
    "<html><body><div class=\"a\">Hello &amp; <b>bye</b></div></body></html>",
    "for i in $(seq 1 10); do echo \"$i\" | grep -E '^[0-9]+$' >> /tmp/out.txt; done",
    "SELECT id, name FROM users WHERE age >= 21 AND name LIKE '%son' ORDER BY id DESC;",
    "fn main() { let x: Vec<u32> = (0..10).map(|i| i * i).collect(); println!(\"{:?}\", x); }",
    "    indented_with_spaces = True\n\t\tindented_with_tabs = False\r\n",
    "x = a->b; y = c::d<e>(f[0]); z = !g && (h || i) % 3 ^ ~j;",
    "https://example.com/path/to/resource?query=value&other=42#fragment",
    "user.name+tag@example.co.uk",
    "// TODO(someone): fix this -- it's broken!!! ???",
]
EMOJI = [
    "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷🇯🇵", "❤️", "1️⃣", "🧑🏿‍💻", "👩🏻‍❤️‍💋‍👨🏼", "😀😃😄😁", "🤷‍♂️", "🐈‍⬛", "©®™",
]
COMBINING = [
    "e\u0301", "a\u0308\u0323", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349",
    "\u1100\u1161\u11a8", "ﬁ ﬂ ﬀ", "ＡＢＣ ｆｕｌｌｗｉｄｔｈ １２３", "x² H₂O", "Ⅻ ⅷ", "\u212b \u2126 \u212a",
    "𝐀𝐁𝐂 𝓧𝓨𝓩", "café vs cafe\u0301", "ǅ ǈ ǋ", "ß ẞ ŉ", "\u0130 \u0131 i I", "Å Ω K", "\u00bd \u2153",
    "\u0915\u094d\u0937", "\u0e01\u0e34\u0e4a", "ｶﾞｷﾞ", "\u3099\u309a",
]
WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\t\t", "\u00a0", "\u3000", "\u2028",
              "\u200b", "\u2009", "     ", "\n\n\n\n", " \t \n", "\u0085", "\u000b", "\u000c"]
DIGITS = ["0", "7", "42", "123", "1234", "12345", "3.14159", "1,000,000", "2026-11-22", "0x1F", "1e-9",
          "٣٤٥", "०१२३", "１２３", "99999999999999999999", "-17", "+1 (555) 010-9999", "v1.2.3", "3rd", "10%"]
SPECIALS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|reserved_special_token_5|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>",
    "<tool_call>", "<|vision_start|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
    "<|start|>", "<|channel|>", "<|message|>", "<|return|>", "<|call|>", "<|constrain|>",
    "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_image>",
    "[multimodal]", "<table>", "</td>", "<unused17>", "<s>", "</s>", "[CLS]", "[SEP]", "[MASK]", "[UNK]",
    "<0x41>", "<0xE2>", "▁", "▁▁▁", "<|eot_id", "<|im_start|", "start_of_turn>", "<<|eot_id|>>",
]
EDGE = [
    "", " ", "a", "'s", "'S 'T 'LL 'Re 'ſ", "don't I'M you'Re", "''", "\"quoted\" ‘single’ “double”",
    "\x00", "\x01\x02\x03", "\x7f", "\ufffd", "\uffff", "\ue000", "\ufeffBOM", "\u200e\u200f", "\u200d",
    "a" * 300, "supercalifragilisticexpialidocious" * 8, "ab" * 150, "ñ" * 100, "日本" * 80,
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "-" * 64, "=" * 40 + "\n" + "=" * 40,
    "aGVsbG8gd29ybGQhIHRoaXMgaXMgYmFzZTY0IGVuY29kZWQgdGV4dA==", "deadbeefcafebabe0123456789abcdef" * 3,
    "...", "!!!???", "a.b.c", "Mr. Smith's", "e.g., i.e., etc.", "C'est l'été.", "rock 'n' roll",
    "\\n literally", "tab\tseparated\tvalues", "trailing space ", " leading space", "  both  ",
]
ALL = PROSE + CODE + EMOJI + COMBINING + WHITESPACE + DIGITS + SPECIALS + EDGE


def make_corpus():
    rng = random.Random(SEED)
    texts = list(ALL)
    pools = [PROSE, PROSE, CODE, EMOJI, COMBINING, DIGITS, SPECIALS, EDGE]
    for _ in range(N_RANDOM):
        parts = []
        for _ in range(rng.randint(1, 7)):
            pool = rng.choice(pools)
            frag = rng.choice(pool)
            r = rng.random()
            if r < 0.08:
                frag = frag.upper()
            elif r < 0.14:
                frag = frag.lower()
            elif r < 0.18 and len(frag) > 3:
                cut = rng.randrange(1, len(frag))
                frag = frag[:cut]
            parts.append(frag)
            parts.append(rng.choice(WHITESPACE) if rng.random() < 0.7 else rng.choice(["", ",", ".", ": ", "'"]))
        texts.append("".join(parts))
    # A few long documents (several KB) so throughput numbers see realistic text sizes.
    for i in range(40):
        paras = [rng.choice(PROSE + CODE) for _ in range(rng.randint(20, 60))]
        texts.append(rng.choice(["\n\n", "\n", " "]).join(paras))
    return texts


def run(tok, texts, name):
    has_encode_special = hasattr(tok, "encode_special_tokens")
    rows = []
    for t in texts:
        tok.encode_special_tokens = False
        ids = tok.encode(t, add_special_tokens=True).ids
        plain = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        nospecial = tok.encode(t, add_special_tokens=True).ids
        tok.encode_special_tokens = False
        rows.append({
            "ids": ids, "ids_plain": plain, "ids_nospecial": nospecial,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip": tok.decode(ids, skip_special_tokens=True),
        })
    assert has_encode_special, "tokenizers >= 0.19 needed for encode_special_tokens"
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", required=True)
    ap.add_argument("--minilm", default=None, help="folder with the all-MiniLM-L6-v2 tokenizer.json")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../tests/data/tokenizers"))
    args = ap.parse_args()
    texts = make_corpus()
    files = {"corpus.jsonl": "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)}
    names = ["llama3", "qwen3", "deepseek-v3", "gpt-oss", "gemma3", "sentencepiece-32k"]
    paths = {n: os.path.join(args.tokenizers, n, "tokenizer.json") for n in names}
    if args.minilm:
        paths["minilm"] = os.path.join(args.minilm, "tokenizer.json")
    for name, path in paths.items():
        tok = Tokenizer.from_file(path)
        tok.no_truncation()   # ollm encodes without truncation or padding
        tok.no_padding()
        rows = run(tok, texts, name)
        files[name + ".jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        print(f"{name}: {len(rows)} cases")
    import tokenizers
    files["VERSION"] = f"tokenizers {tokenizers.__version__}\nseed {SEED}\ntexts {len(texts)}\n"
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "goldens.tar.xz")
    with tarfile.open(out, "w:xz", preset=9) as tar:
        for fname, content in files.items():
            data = content.encode("utf-8")
            info = tarfile.TarInfo("goldens/" + fname)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    print(f"wrote {out} ({os.path.getsize(out)} bytes, {len(texts)} texts)")


if __name__ == "__main__":
    main()
