#include "engine/vocab/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine/vocab/pre_tokenizer_fast.h"

namespace agora {

namespace {

// The split patterns of each family, as the reference engine uses them (case-insensitive
// contractions are spelled out so that every engine reads them the same way).
constexpr const char* k_gpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* k_llama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* k_qwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* k_bloom = " ?[^(\\s|.,!?…。，、।۔،)]+";

std::vector<const char*> patterns_of(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::gpt2:
      return {k_gpt2};
    case PreTokenizerKind::llama3:
      return {k_llama3};
    case PreTokenizerKind::qwen2:
      return {k_qwen2};
    case PreTokenizerKind::deepseek_llm:
      return {"[\r\n]",
              "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
              "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
              "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"};
    case PreTokenizerKind::deepseek_coder:
      return {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"};
    case PreTokenizerKind::deepseek3:
      return {"\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
              "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
              "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"};
    case PreTokenizerKind::falcon:
      return {"[\\p{P}\\$\\+<=>\\^~\\|`]+", k_gpt2, "[0-9][0-9][0-9]"};
    case PreTokenizerKind::starcoder:
      return {"\\p{N}", k_gpt2};
    case PreTokenizerKind::bloom:
      return {k_bloom};
    case PreTokenizerKind::viking:
      return {k_bloom, "\\p{N}"};
    case PreTokenizerKind::chameleon:
      return {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
              "\\p{N}", "[\\p{P}!-/:-@\\[-`{-~]", k_gpt2};
    case PreTokenizerKind::default_bpe:
    default:
      return {"[\\p{P}\\$\\+<=>\\^~\\|]+", k_gpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
  }
}

}  // namespace

Result<PreTokenizerInfo> pre_tokenizer_info(std::string_view pre) {
  PreTokenizerInfo info;
  using K = PreTokenizerKind;
  auto any = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names) {
      if (pre == n) return true;
    }
    return false;
  };
  if (pre.empty() || pre == "default") {
    info.kind = K::default_bpe;
  } else if (any({"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    info.kind = K::llama3;
    info.ignore_merges = true;
    info.add_bos = true;
  } else if (any({"dbrx", "smaug-bpe"})) {
    info.kind = K::llama3;
  } else if (pre == "chatglm-bpe") {
    info.kind = K::llama3;
  } else if (pre == "deepseek-llm") {
    info.kind = K::deepseek_llm;
    info.clean_spaces = false;
  } else if (pre == "deepseek-coder") {
    info.kind = K::deepseek_coder;
    info.clean_spaces = false;
  } else if (pre == "deepseek-v3") {
    info.kind = K::deepseek3;
    info.clean_spaces = false;
  } else if (pre == "falcon") {
    info.kind = K::falcon;
  } else if (any({"mpt", "olmo", "jais", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat",
                  "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe"})) {
    info.kind = K::gpt2;
  } else if (any({"starcoder", "refact", "codeshell", "exaone", "minerva-7b"})) {
    info.kind = K::starcoder;
  } else if (any({"command-r", "smollm"})) {
    info.kind = K::starcoder;
    info.clean_spaces = false;
  } else if (any({"qwen2", "deepseek-r1-qwen"})) {
    info.kind = K::qwen2;
    info.clean_spaces = false;
    info.nfc = true;  // Hugging Face's Qwen2 tokenizer.json has an NFC normalizer
  } else if (any({"stablelm2", "megrez"})) {
    info.kind = K::qwen2;
  } else if (pre == "poro-chat") {
    info.kind = K::bloom;
    info.clean_spaces = false;
  } else if (any({"bloom", "gpt3-finnish"})) {
    info.kind = K::bloom;
  } else if (pre == "viking") {
    info.kind = K::viking;
    info.clean_spaces = false;
  } else if (pre == "chameleon") {
    info.kind = K::chameleon;
    info.add_bos = true;
    info.clean_spaces = false;
  } else {
    return Status(ErrorCode::unsupported,
                  "unknown pre-tokenizer type '" + std::string(pre) + "' (tokenizer.ggml.pre)");
  }
  return info;
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::create(PreTokenizerKind kind,
                                                           bool use_fast_paths) {
  std::unique_ptr<PreTokenizer> pt(new PreTokenizer());
  pt->kind_ = kind;
  pt->fast_ = use_fast_paths && fast_split_available(kind);
  for (const char* pattern : patterns_of(kind)) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    auto re = std::make_unique<Regex>();
    re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK,
                             &err, &err_off, nullptr);
    if (re->code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Status(ErrorCode::internal, std::string("pre-tokenizer regex failed to compile: ") +
                                             reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
    pt->regexes_.push_back(std::move(re));
  }
  return pt;
}

void PreTokenizer::split(std::string_view text, std::vector<Piece>& out) const {
  out.clear();
  if (text.empty()) return;
  if (fast_) {
    fast_split(kind_, text, out);
    return;
  }
  out.push_back({0, static_cast<uint32_t>(text.size())});
  std::vector<Piece> next;
  for (const auto& re : regexes_) {
    next.clear();
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re->code, nullptr);
    for (const Piece& p : out) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + p.offset);
      PCRE2_SIZE pos = 0;
      PCRE2_SIZE last = 0;
      while (pos < p.length) {
        const int rc = pcre2_match(re->code, subject, p.length, pos, PCRE2_NO_UTF_CHECK, md,
                                   nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) {  // empty match: step over one code point, emit nothing
          pos = ov[0] + 1;
          while (pos < p.length && (text[p.offset + pos] & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (ov[0] > last) next.push_back({p.offset + uint32_t(last), uint32_t(ov[0] - last)});
        next.push_back({p.offset + uint32_t(ov[0]), uint32_t(ov[1] - ov[0])});
        last = pos = ov[1];
      }
      if (last < p.length) next.push_back({p.offset + uint32_t(last), uint32_t(p.length - last)});
    }
    pcre2_match_data_free(md);
    out.swap(next);
  }
}

}  // namespace agora
