#include "engine/vocab/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "engine/vocab/bpe_tokenizer.h"
#include "engine/vocab/pre_tokenizer.h"
#include "engine/vocab/spm_tokenizer.h"
#include "engine/vocab/unicode.h"
#include "engine/vocab/vocab_limits.h"
#include "engine/vocab/wpm_tokenizer.h"

namespace agora {

namespace {

const char* const k_eog_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                   "<|endoftext|>", "<|eom_id|>", "<EOT>"};

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status bad(const std::string& key, const std::string& why) {
  return Status(ErrorCode::invalid_file, key + ": " + why);
}

}  // namespace

Vocab::Vocab() = default;
Vocab::~Vocab() = default;

Result<std::unique_ptr<Vocab>> Vocab::load_file(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.status();
  return load(*file.value());
}

Result<std::unique_ptr<Vocab>> Vocab::load(const GgufFile& file) {
  std::unique_ptr<Vocab> v(new Vocab());
  Status st = v->load_impl(file);
  if (!st.ok()) return st;
  return v;
}

size_t Vocab::n_merges() const { return bpe_ ? bpe_->n_merges() : 0; }

std::string_view Vocab::type_name() const {
  switch (type_) {
    case VocabType::spm: return "SPM";
    case VocabType::bpe: return "BPE";
    case VocabType::wpm: return "WPM";
  }
  return "?";
}

Status Vocab::load_impl(const GgufFile& f) {
  const auto model = f.get_str("tokenizer.ggml.model");
  if (!model) return bad("tokenizer.ggml.model", "missing (no tokenizer in this file)");
  pre_name_ = std::string(f.get_str("tokenizer.ggml.pre").value_or(""));

  PreTokenizerInfo pre_info;
  if (*model == "llama") {
    type_ = VocabType::spm;
    bos_ = 1, eos_ = 2, unk_ = 0;
    add_space_prefix_ = true;
    add_bos_ = true;
  } else if (*model == "bert") {
    type_ = VocabType::wpm;
    bos_ = 101, unk_ = 100, sep_ = 102, pad_ = 0, mask_ = 103;
    clean_spaces_ = true;
    add_bos_ = true;
  } else if (*model == "gpt2") {
    type_ = VocabType::bpe;
    bos_ = 11, eos_ = 11;
    auto info = pre_tokenizer_info(pre_name_);
    if (!info) return info.status();
    pre_info = info.value();
    clean_spaces_ = pre_info.clean_spaces;
    add_bos_ = pre_info.add_bos;
    nfc_ = pre_info.nfc;
  } else {
    return Status(ErrorCode::unsupported,
                  "tokenizer.ggml.model: unsupported tokenizer '" + std::string(*model) + "'");
  }
  add_space_prefix_ = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(add_space_prefix_);

  // ---- token table --------------------------------------------------------------------------
  const auto* tokens = f.get_str_array("tokenizer.ggml.tokens");
  if (tokens == nullptr) return bad("tokenizer.ggml.tokens", "missing or not a string array");
  const size_t n = tokens->size();
  if (n == 0) return bad("tokenizer.ggml.tokens", "empty");
  if (n > k_max_vocab_tokens) {
    return bad("tokenizer.ggml.tokens", "too many tokens (" + std::to_string(n) + ")");
  }
  const auto* scores = f.get_float_array("tokenizer.ggml.scores");
  if (scores != nullptr && scores->size() != n) {
    return bad("tokenizer.ggml.scores", "has " + std::to_string(scores->size()) +
                                            " entries for " + std::to_string(n) + " tokens");
  }
  const auto* types = f.get_int_array("tokenizer.ggml.token_type");
  if (types != nullptr && types->size() != n) {
    return bad("tokenizer.ggml.token_type", "has " + std::to_string(types->size()) +
                                                " entries for " + std::to_string(n) + " tokens");
  }
  table_.text.resize(n);
  table_.score.assign(n, 0.0f);
  table_.attr.assign(n, k_attr_normal);
  table_.index.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    std::string_view t = (*tokens)[i];
    if (t.size() > k_max_token_bytes) {
      return bad("tokenizer.ggml.tokens", "token " + std::to_string(i) + " is too long");
    }
    table_.text[i] = t.empty() ? "[EMPTY_" + std::to_string(i) + "]" : std::string(t);
    if (scores) table_.score[i] = static_cast<float>((*scores)[i]);
    if (types) {
      switch ((*types)[i]) {
        case 1: table_.attr[i] = k_attr_normal; break;
        case 2: table_.attr[i] = k_attr_unknown; break;
        case 3: table_.attr[i] = k_attr_control; break;
        case 4: table_.attr[i] = k_attr_user_defined; break;
        case 5: table_.attr[i] = k_attr_unused; break;
        case 6: table_.attr[i] = k_attr_byte; break;
        default: table_.attr[i] = k_attr_undefined; break;
      }
    }
    table_.max_token_len = std::max(table_.max_token_len, table_.text[i].size());
  }
  for (size_t i = 0; i < n; ++i) {
    if (!table_.index.emplace(table_.text[i], static_cast<TokenId>(i)).second) {
      return bad("tokenizer.ggml.tokens",
                 "duplicate token text at id " + std::to_string(i) + " ('" +
                     table_.text[i].substr(0, 64) + "')");
    }
  }

  // ---- special ids --------------------------------------------------------------------------
  auto in_range = [&](TokenId id) { return id >= 0 && static_cast<size_t>(id) < n; };
  // Family defaults that do not fit this vocabulary are "none".
  for (TokenId* id : {&bos_, &eos_, &unk_, &sep_, &pad_, &mask_}) {
    if (!in_range(*id)) *id = k_token_null;
  }
  struct Key {
    const char* name;
    TokenId* id;
  };
  const Key keys[] = {
      {"tokenizer.ggml.bos_token_id", &bos_},       {"tokenizer.ggml.eos_token_id", &eos_},
      {"tokenizer.ggml.eot_token_id", &eot_},       {"tokenizer.ggml.eom_token_id", &eom_},
      {"tokenizer.ggml.unknown_token_id", &unk_},   {"tokenizer.ggml.seperator_token_id", &sep_},
      {"tokenizer.ggml.padding_token_id", &pad_},   {"tokenizer.ggml.mask_token_id", &mask_},
      {"tokenizer.ggml.fim_pre_token_id", &fim_pre_}, {"tokenizer.ggml.fim_suf_token_id", &fim_suf_},
      {"tokenizer.ggml.fim_mid_token_id", &fim_mid_}, {"tokenizer.ggml.fim_pad_token_id", &fim_pad_},
      {"tokenizer.ggml.fim_rep_token_id", &fim_rep_}, {"tokenizer.ggml.fim_sep_token_id", &fim_sep_},
      {"tokenizer.ggml.prefix_token_id", &fim_pre_}, {"tokenizer.ggml.suffix_token_id", &fim_suf_},
      {"tokenizer.ggml.middle_token_id", &fim_mid_},
  };
  for (const Key& k : keys) {
    const auto v = f.get_u64(k.name);
    // An id past the table (e.g. 4294967295 = "none") keeps the default, as the reference does.
    if (v && *v < n) *k.id = static_cast<TokenId>(*v);
  }
  add_bos_ = f.get_bool("tokenizer.ggml.add_bos_token").value_or(add_bos_);
  add_eos_ = f.get_bool("tokenizer.ggml.add_eos_token").value_or(add_eos_);
  if (add_bos_ && bos_ == k_token_null && type_ != VocabType::wpm) {
    return bad("tokenizer.ggml.bos_token_id", "add_bos_token is set but there is no BOS token");
  }
  if (add_eos_ && eos_ == k_token_null) {
    return bad("tokenizer.ggml.eos_token_id", "add_eos_token is set but there is no EOS token");
  }

  // Tokens found by their text when no key names them; they become control tokens.
  auto find_by_text = [&](TokenId& slot, std::initializer_list<const char*> names) {
    if (slot != k_token_null) return;
    for (size_t i = 0; i < n; ++i) {
      for (const char* name : names) {
        if (table_.text[i] == name) {
          slot = static_cast<TokenId>(i);
          table_.attr[i] |= k_attr_control;
          return;
        }
      }
    }
  };
  find_by_text(eot_, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                      "<EOT>", "<｜end▁of▁sentence｜>"});
  find_by_text(eom_, {"<|eom_id|>"});
  find_by_text(fim_pre_, {"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"});
  find_by_text(fim_suf_, {"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"});
  find_by_text(fim_mid_, {"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"});
  find_by_text(fim_pad_, {"<|fim_pad|>", "<fim-pad>", "<PAD>"});
  find_by_text(fim_rep_, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"});
  find_by_text(fim_sep_, {"<|file_sep|>"});

  is_eog_.assign(n, 0);
  auto mark_eog = [&](TokenId id) {
    if (id != k_token_null && !is_eog_[id]) is_eog_[id] = 1;
  };
  mark_eog(fim_pad_);
  mark_eog(fim_rep_);
  mark_eog(fim_sep_);
  for (size_t i = 0; i < n; ++i) {
    for (const char* name : k_eog_names) {
      if (table_.text[i] == name) {
        is_eog_[i] = 1;
        table_.attr[i] |= k_attr_control;
      }
    }
  }
  mark_eog(eos_);
  mark_eog(eot_);
  mark_eog(eom_);
  for (size_t i = 0; i < n; ++i) {
    if (is_eog_[i]) eog_ids_.push_back(static_cast<TokenId>(i));
  }

  // ---- model-specific attributes (the reference keys these on names) -------------------------
  const std::string name = lower_ascii(f.get_str("general.name").value_or(""));
  if (pre_name_ == "jina-v2-de" || pre_name_ == "jina-v2-es" || pre_name_ == "jina-v2-code") {
    if (TokenId id = table_.find("<mask>"); id != k_token_null) table_.attr[id] |= k_attr_lstrip;
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (size_t i = 0; i < n; ++i) {
      if (table_.attr[i] & (k_attr_control | k_attr_user_defined | k_attr_unknown)) {
        table_.attr[i] |= k_attr_rstrip;
      }
    }
    if (TokenId id = table_.find("</s>"); id != k_token_null) table_.attr[id] |= k_attr_rstrip;
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (TokenId id = table_.find(t); id != k_token_null) table_.attr[id] &= ~k_attr_rstrip;
    }
  }

  // ---- tokenizer ------------------------------------------------------------------------------
  switch (type_) {
    case VocabType::spm:
      spm_ = std::make_unique<SpmTokenizer>(table_, unk_);
      break;
    case VocabType::wpm:
      wpm_ = std::make_unique<WpmTokenizer>(table_, unk_);
      break;
    case VocabType::bpe: {
      const auto* merges = f.get_str_array("tokenizer.ggml.merges");
      if (merges == nullptr) return bad("tokenizer.ggml.merges", "missing for a gpt2 tokenizer");
      if (merges->size() > k_max_vocab_merges) return bad("tokenizer.ggml.merges", "too many");
      auto bpe = BpeTokenizer::create(table_, *merges, pre_info);
      if (!bpe) return bpe.status();
      bpe_ = std::move(bpe.value());
      break;
    }
  }

  // ---- caches ---------------------------------------------------------------------------------
  for (size_t i = 0; i < n; ++i) {
    if (table_.attr[i] & (k_attr_control | k_attr_user_defined | k_attr_unknown)) {
      special_.push_back(static_cast<TokenId>(i));
    }
  }
  std::stable_sort(special_.begin(), special_.end(), [&](TokenId a, TokenId b) {
    return table_.text[a].size() > table_.text[b].size();
  });
  pieces_.resize(n);
  for (size_t i = 0; i < n; ++i) pieces_[i] = compute_piece(static_cast<TokenId>(i));
  return Status();
}

std::string Vocab::compute_piece(TokenId id) const {
  const uint32_t attr = table_.attr[id];
  const std::string& text = table_.text[id];
  if (attr & (k_attr_unknown | k_attr_control | k_attr_user_defined)) return text;
  if (type_ == VocabType::bpe) {
    return (attr & k_attr_normal) ? BpeTokenizer::decode_token_text(text) : std::string();
  }
  if (attr & k_attr_normal) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out.push_back(' ');
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  }
  if (attr & k_attr_byte) {
    // "<0xNN>": the hex digits at offset 3.
    unsigned value = 0;
    for (size_t i = 3; i < 5 && i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])); ++i) {
      value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(text[i]))
                                                     ? text[i] - '0'
                                                     : (std::tolower(text[i]) - 'a' + 10));
    }
    return std::string(1, static_cast<char>(value));
  }
  return std::string();  // unused / undefined tokens render as nothing
}

bool Vocab::is_eog(TokenId id) const { return valid(id) && is_eog_[id] != 0; }

std::string Vocab::token_to_piece(TokenId id, bool special) const {
  if (!valid(id)) return std::string();
  if (!special && (table_.attr[id] & (k_attr_unknown | k_attr_control))) return std::string();
  return pieces_[id];
}

void Vocab::partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const {
  out.clear();
  if (text.empty()) return;
  out.push_back({k_token_null, 0, static_cast<uint32_t>(text.size())});
  std::vector<Fragment> next;
  for (TokenId id : special_) {
    const uint32_t attr = table_.attr[id];
    if (!parse_special && (attr & (k_attr_control | k_attr_unknown))) continue;
    const std::string& tok = table_.text[id];
    bool any = false;
    for (const Fragment& fr : out) {
      if (fr.token == k_token_null &&
          text.substr(fr.offset, fr.length).find(tok) != std::string_view::npos) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    next.clear();
    for (const Fragment& fr : out) {
      if (fr.token != k_token_null) {
        next.push_back(fr);
        continue;
      }
      size_t base = fr.offset;
      size_t len = fr.length;
      while (len > 0) {
        const size_t at = text.substr(base, len).find(tok);
        if (at == std::string_view::npos) {
          next.push_back({k_token_null, uint32_t(base), uint32_t(len)});
          break;
        }
        size_t left = at;
        if (attr & k_attr_lstrip) {
          while (left > 0 && ascii_space(text[base + left - 1])) --left;
        }
        if (left > 0) next.push_back({k_token_null, uint32_t(base), uint32_t(left)});
        next.push_back({id, 0, 0});
        size_t rbase = base + at + tok.size();
        size_t rlen = len - at - tok.size();
        if (attr & k_attr_rstrip) {
          while (rlen > 0 && ascii_space(text[rbase])) {
            ++rbase;
            --rlen;
          }
        }
        base = rbase;
        len = rlen;
      }
    }
    out.swap(next);
  }
}

std::vector<TokenId> Vocab::tokenize(std::string_view raw, bool add_special,
                                     bool parse_special) const {
  std::string sanitized;
  std::string_view text = raw;
  if (!unicode::is_valid_utf8(raw)) {
    sanitized = unicode::sanitize_utf8(raw);
    text = sanitized;
  }
  std::vector<Fragment> fragments;
  partition(text, parse_special, fragments);

  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  switch (type_) {
    case VocabType::spm: {
      if (add_special && add_bos_) out.push_back(bos_);
      bool prev_special = true;  // the first text fragment gets the leading space
      std::string buf;
      for (const Fragment& fr : fragments) {
        if (fr.token != k_token_null) {
          out.push_back(fr.token);
          prev_special = true;
          continue;
        }
        buf.clear();
        if (add_space_prefix_ && prev_special) buf.append("\xE2\x96\x81");
        for (char c : text.substr(fr.offset, fr.length)) {
          if (c == ' ') {
            buf.append("\xE2\x96\x81");
          } else {
            buf.push_back(c);
          }
        }
        spm_->tokenize(buf, out);
        prev_special = false;
      }
      if (add_special && add_eos_) out.push_back(eos_);
      break;
    }
    case VocabType::bpe: {
      if (add_special && add_bos_) out.push_back(bos_);
      for (const Fragment& fr : fragments) {
        if (fr.token != k_token_null) {
          out.push_back(fr.token);
          continue;
        }
        std::string_view piece = text.substr(fr.offset, fr.length);
        if (nfc_ && unicode::has_non_ascii(piece)) {
          const std::string normalized = unicode::nfc(piece);
          bpe_->tokenize(normalized, out);
        } else {
          bpe_->tokenize(piece, out);
        }
      }
      if (add_special && add_eos_) out.push_back(eos_);
      break;
    }
    case VocabType::wpm: {
      if (add_special && bos_ != k_token_null) out.push_back(bos_);
      for (const Fragment& fr : fragments) {
        if (fr.token != k_token_null) {
          out.push_back(fr.token);
        } else {
          wpm_->tokenize(text.substr(fr.offset, fr.length), out);
        }
      }
      if (add_special && sep_ != k_token_null) out.push_back(sep_);
      break;
    }
  }
  return out;
}

std::string Vocab::detokenize(std::span<const TokenId> ids, bool remove_special,
                              bool unparse_special) const {
  bool strip_space = add_space_prefix_;
  if (remove_special && add_bos_ && !ids.empty() && ids.front() == bos_) {
    strip_space = false;
    ids = ids.subspan(1);
  }
  if (remove_special && add_eos_ && !ids.empty() && ids.back() == eos_) {
    ids = ids.subspan(0, ids.size() - 1);
  }
  std::string text;
  for (TokenId id : ids) {
    std::string piece = token_to_piece(id, unparse_special);
    if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_space = false;
    text += piece;
  }
  if (clean_spaces_) clean_up_tokenization_spaces(text);
  return text;
}

void clean_up_tokenization_spaces(std::string& t) {
  // Three in-place passes, each reading the previous pass's result; `w` is the write index.
  // Pass 1: drop the space before ? ! . ,
  size_t n = t.size();
  size_t w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --w;
    t[w++] = x;
  }
  t.resize(w);
  // Pass 2: " ' " -> "'" (a lone apostrophe between spaces loses both spaces).
  n = t.size();
  w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --w;
      t[++i] = '\0';  // the following space is skipped (and no longer reads as a space)
    }
    t[w++] = x;
  }
  t.resize(w);
  // Pass 3: " 's" " 'm" " 're" " 've" lose the space (" 't" " 'd" " 'll" keep it).
  n = t.size();
  w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --w;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = t[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --w;
      }
    }
    t[w++] = x;
  }
  t.resize(w);
}

}  // namespace agora
