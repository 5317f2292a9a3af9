// The tokenizer.ggml.pre table. Facts from llama.cpp (src/llama-vocab.cpp: the name -> pre-type
// mapping and each type's regex list and flags); where llama.cpp rewrote a tokenizer.json regex
// for std::regex (case-insensitive groups spelled out, \p{Lu}-style classes approximated by
// lookaheads, possessive quantifiers dropped) the regex here is the tokenizer.json original,
// which our engine (PCRE2 with the Oniguruma rewrite of regex.cpp) runs as Hugging Face does.
// scripts/reference/make_gguf_pre_tokenizer_goldens.py reads the regexes from this file.
#include "tokenizer/gguf_pre_tokenizers.hpp"

#include <algorithm>

#include "util/fail.hpp"

namespace ollm::tok {
namespace {

// GPT-2's split (HF ByteLevel use_regex).
constexpr std::string_view gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view llama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view qwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view o200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// BLOOM's "not a space or one of these punctuation marks" (the tokenizer.json nests a class in
// the class, which Oniguruma unions; spelled flat here).
constexpr std::string_view bloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
constexpr std::string_view deepseek3_words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Family {
  std::vector<std::string_view> names;
  GgufPreTokenizerSpec spec;
};

// Names llama.cpp knows whose pipeline is not byte-level BPE: the reason they are refused.
struct Refused {
  std::string_view name;
  std::string_view why;
};

const std::vector<Family>& families() {
  static const std::vector<Family> table = [] {
    std::vector<Family> t;
    auto add = [&](std::vector<std::string_view> names, std::string_view family, std::vector<std::string_view> re) {
      Family f;
      f.names = std::move(names);
      f.spec.family = family;
      f.spec.regexes = std::move(re);
      t.push_back(std::move(f));
      return &t.back().spec;
    };
    // llama.cpp's fallback for an unrecognised tokenizer (and for a GGUF without tokenizer.ggml.pre).
    add({"default"}, "default",
        {R"([\p{P}\$\+<=>\^~\|]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
         R"(\p{N}+)", R"([0-9][0-9][0-9])"});
    add({"gpt2", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
         "modern-bert", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"},
        "gpt2", {gpt2});
    add({"jina-v1-en", "jina-v2-code", "roberta-bpe"}, "roberta", {gpt2})->add_sep = true;
    {
      auto* s = add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                     "jina-v5-nano"},
                    "llama3", {llama3});
      s->ignore_merges = true;
      s->add_bos = true;
    }
    add({"dbrx", "smaug-bpe"}, "dbrx", {llama3});
    add({"chatglm-bpe", "glm4"}, "chatglm4", {llama3});
    add({"jais-2"}, "jais2",
        {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})"});
    add({"deepseek-llm"}, "deepseek-llm",
        {R"([\r\n])",
         R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)",
         R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", R"([一-龥ࠀ-一가-퟿]+)", R"(\p{N}+)"});
    add({"deepseek-coder"}, "deepseek-coder",
        {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", R"([一-龥ࠀ-一가-퟿]+)", R"(\p{N})"});
    add({"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, "deepseek-v3",
        {R"(\p{N}{1,3})", R"([一-龥぀-ゟ゠-ヿ]+)", deepseek3_words});
    add({"spark2_5"}, "spark2_5",
        {R"(\p{N}{1,3})", R"([一-龥぀-ゟ゠-ヿ]+)",
         R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)",
         R"(\p{N})"});
    add({"youtu"}, "youtu",
        {R"([가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+)",
         R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"})
        ->ignore_merges = true;
    add({"falcon"}, "falcon",
        {R"([\p{P}\$\+<=>\^~\|`]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
         R"([0-9][0-9][0-9])"});
    // HF: Digits(individual_digits) then ByteLevel.
    add({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"}, "starcoder",
        {R"(\p{N})", gpt2});
    add({"qwen2"}, "qwen2", {qwen2})->nfc = true;
    add({"stablelm2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "hunyuan", "solar-open", "grok-2"}, "qwen2",
        {qwen2});
    add({"qwen35"}, "qwen35",
        {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"})
        ->nfc = true;
    add({"poro-chat", "bloom", "gpt3-finnish"}, "bloom", {bloom});
    add({"viking"}, "viking", {bloom, R"(\p{N})"});
    {
      auto* s = add({"tekken"}, "tekken",
                    {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"});
      s->ignore_merges = true;
      s->add_bos = true;
    }
    add({"chameleon"}, "chameleon",
        {R"(<sentinel:[0-9]+>)", R"((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)", R"(([\t\n]|    |  ))", R"(\p{N})",
         R"([\p{P}!-/:-@\[-`{-~])", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))"})
        ->add_bos = true;
    // gpt-oss's and Llama 4's tokenizer.json set ignore_merges (llama.cpp does not for this type).
    add({"gpt-4o", "o200k", "llama4"}, "gpt-4o", {o200k})->ignore_merges = true;
    add({"kanana2", "talkie", "minimax-m2"}, "gpt-4o", {o200k});
    // As llama.cpp writes it: o200k with \p{M} joining the letter runs.
    add({"granite-embed-multi-97m"}, "granite-embed-multi",
        {R"([^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"})
        ->ignore_merges = true;
    // tokenizer.json: digits grouped in threes from the right (\b on Oniguruma's \w, which holds the
    // marks: "1" before U+FE0F is not cut off), then o200k.
    add({"tiny_aya", "cohere2moe"}, "tiny_aya", {R"(\d{1,3}(?=(?:\d{3})*\b))", o200k});
    // Kimi-K2 ships tiktoken, not a tokenizer.json: this is tokenization_kimi.py's pat_str (llama.cpp
    // runs it as custom code, unicode_regex_split_custom_kimi_k2). Han runs come first, and the
    // letter classes intersect with [^\p{Han}], which our regex rewrite turns into lookaheads.
    add({"kimi-k2"}, "kimi-k2",
        {R"([\p{Han}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"});
    // No word split at all (superword tokens cross spaces): digit runs, cut in threes from the right.
    add({"superbpe"}, "superbpe", {R"(\p{N}+)", R"((?=(\d{3})+(?!\d)))"});
    add({"bailingmoe", "bailingmoe2", "llada-moe"}, "bailingmoe",
        {R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)"});
    add({"seed-coder"}, "seed-coder",
        {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)"});
    add({"ufakzeka"}, "ufakzeka",
        {R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"});
    // llama.cpp splits digit runs with custom code ("\p{AFMoE_digits}": the first len % 3 digits,
    // then threes); the lookahead below cuts the same pieces.
    add({"afmoe"}, "afmoe",
        {R"(\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N})))",
         R"([一-鿿㐀-䶿\x{F900}-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+)", deepseek3_words});
    add({"laguna"}, "laguna", {R"([^\n]+|[\n]+)", qwen2});
    add({"exaone-moe"}, "exaone-moe",
        {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)"});
    add({"minicpm5"}, "minicpm5",
        {R"(\p{N}{1,3})",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"})
        ->ignore_merges = true;
    return t;
  }();
  return table;
}

constexpr Refused refused[] = {
    {"gemma4", "it is SentencePiece-style BPE over raw UTF-8 with spaces as U+2581, not byte-level BPE"},
    {"granite-embed-multi-311m", "it is SentencePiece-style BPE over raw UTF-8 with spaces as U+2581, not byte-level BPE"},
    {"sarvam-moe", "it is SentencePiece-style BPE over raw UTF-8 with spaces as U+2581, not byte-level BPE"},
    {"whitespace", "it is BPE over raw UTF-8 words split at whitespace, not byte-level BPE"},
};

}  // namespace

const GgufPreTokenizerSpec& gguf_pre_tokenizer_spec(std::string_view name) {
  for (const Family& f : families())
    if (std::find(f.names.begin(), f.names.end(), name) != f.names.end()) return f.spec;
  for (const Refused& r : refused)
    if (r.name == name)
      fail(ErrorCode::unsupported, "[tokenizer] GGUF pre-tokenizer '{}' (tokenizer.ggml.pre) is not supported: {}", name,
           r.why);
  fail(ErrorCode::unsupported, "[tokenizer] GGUF pre-tokenizer '{}' (tokenizer.ggml.pre) is not supported", name);
}

std::vector<std::string_view> gguf_pre_tokenizer_names() {
  std::vector<std::string_view> out;
  for (const Family& f : families()) out.insert(out.end(), f.names.begin(), f.names.end());
  return out;
}

PreTokenizerPtr make_gguf_pre_tokenizer(const GgufPreTokenizerSpec& spec) {
  std::vector<PreTokenizerPtr> parts;
  const std::string what = fmt::format("GGUF pre-tokenizer '{}'", spec.family);
  for (std::string_view re : spec.regexes)
    parts.push_back(make_split_pre_tokenizer(Regex(re, what), SplitBehavior::isolated, false));
  parts.push_back(make_byte_level_pre_tokenizer(false, false));
  return make_sequence_pre_tokenizer(std::move(parts));
}

NormalizerPtr make_gguf_normalizer(const GgufPreTokenizerSpec& spec) {
  return spec.nfc ? make_unicode_normalizer(NormalForm::nfc) : nullptr;
}

}  // namespace ollm::tok
