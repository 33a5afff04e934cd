// Vocab: a model's tokenizer, loaded from the `tokenizer.ggml.*` metadata of a GGUF file.
//
// Usage:
//   auto file = GgufFile::open("model.gguf");            // or Vocab::load_file(path)
//   auto vocab = Vocab::load(*file.value());
//   if (!vocab) { report(vocab.status().message()); }
//   std::vector<TokenId> ids = vocab.value()->tokenize("Hello", /*add_special=*/true);
//   std::string text = vocab.value()->detokenize(ids, /*remove_special=*/true);
//
// Three kinds are supported: SentencePiece-style BPE ("llama"), byte-level BPE ("gpt2", with
// the pre-tokenizer named by `tokenizer.ggml.pre`) and WordPiece ("bert"). Results match the
// reference engine (llama.cpp at the commit in shared/testdata/README.md) token for token,
// except where docs/tokenizers.md says otherwise (NFC for the Qwen2 family, as Hugging Face
// does; invalid UTF-8 handling).
//
// Special tokens: control and unknown tokens are recognised in the input text only when
// `parse_special` is true, so user text can never inject "<|im_start|>" by accident.
// User-defined tokens are always recognised (the reference and Hugging Face do the same).
//
// Invalid UTF-8 in the input is handled deterministically: every byte that does not start a
// well-formed sequence (including overlong forms and surrogates) becomes U+FFFD before
// tokenization. The loaded Vocab is immutable and safe to use from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf/gguf_reader.h"
#include "engine/util/status.h"
#include "engine/vocab/token_table.h"

namespace agora {

class SpmTokenizer;
class BpeTokenizer;
class WpmTokenizer;

enum class VocabType { spm, bpe, wpm };

class Vocab {
 public:
  // Validates the metadata (counts, array lengths, ids, merges) and builds the tokenizer.
  // A bad or unsupported vocabulary is an error naming the key; never a crash.
  static Result<std::unique_ptr<Vocab>> load(const GgufFile& file);
  static Result<std::unique_ptr<Vocab>> load_file(const std::string& path);
  ~Vocab();
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  // Text -> token ids. `add_special` adds BOS/EOS as the model's add_bos/add_eos flags say
  // (for WordPiece: [CLS] ... [SEP]); `parse_special` lets control-token text in `text`
  // become control tokens.
  std::vector<TokenId> tokenize(std::string_view text, bool add_special,
                                bool parse_special = false) const;

  // The bytes of one token. Control/unknown tokens give "" unless `special`. Out-of-range ids
  // give "". The bytes may be a partial UTF-8 sequence (byte tokens).
  std::string token_to_piece(TokenId id, bool special) const;

  // Token ids -> text as the reference does: the SPM leading space of the first token is
  // removed (unless it follows a removed BOS), `remove_special` drops a leading BOS / trailing
  // EOS when the model adds them, control tokens render only with `unparse_special`, and
  // vocabularies with clean-up spaces (GPT-2 style) join " ," -> "," etc. May hold invalid
  // UTF-8 when the ids split a character.
  std::string detokenize(std::span<const TokenId> ids, bool remove_special = false,
                         bool unparse_special = false) const;

  VocabType type() const { return type_; }
  std::string_view type_name() const;
  const std::string& pre_name() const { return pre_name_; }
  uint32_t n_tokens() const { return static_cast<uint32_t>(table_.size()); }
  size_t n_merges() const;

  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  TokenId eot() const { return eot_; }
  TokenId unk() const { return unk_; }
  TokenId pad() const { return pad_; }
  TokenId sep() const { return sep_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool clean_spaces() const { return clean_spaces_; }
  bool normalizes_nfc() const { return nfc_; }
  // End of generation: EOS, EOT, EOM and the reference's end-of-turn names.
  bool is_eog(TokenId id) const;
  const std::vector<TokenId>& eog_ids() const { return eog_ids_; }

  bool valid(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < table_.size(); }
  const std::string& token_text(TokenId id) const { return table_.text.at(id); }
  float token_score(TokenId id) const { return table_.score.at(id); }
  uint32_t token_attr(TokenId id) const { return table_.attr.at(id); }
  bool is_control(TokenId id) const { return valid(id) && (table_.attr[id] & k_attr_control); }
  TokenId find_token(std::string_view text) const { return table_.find(text); }

 private:
  Vocab();
  struct Fragment {
    TokenId token;  // k_token_null for text
    uint32_t offset;
    uint32_t length;
  };
  Status load_impl(const GgufFile& file);
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;
  std::string compute_piece(TokenId id) const;
  void clean_up(std::string& text) const;

  VocabType type_ = VocabType::spm;
  std::string pre_name_;
  TokenTable table_;
  std::unique_ptr<SpmTokenizer> spm_;
  std::unique_ptr<BpeTokenizer> bpe_;
  std::unique_ptr<WpmTokenizer> wpm_;

  TokenId bos_ = k_token_null, eos_ = k_token_null, eot_ = k_token_null, eom_ = k_token_null;
  TokenId unk_ = k_token_null, sep_ = k_token_null, pad_ = k_token_null, mask_ = k_token_null;
  TokenId fim_pre_ = k_token_null, fim_suf_ = k_token_null, fim_mid_ = k_token_null;
  TokenId fim_pad_ = k_token_null, fim_rep_ = k_token_null, fim_sep_ = k_token_null;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  bool clean_spaces_ = false;
  bool nfc_ = false;

  std::vector<TokenId> eog_ids_;
  std::vector<uint8_t> is_eog_;
  std::vector<TokenId> special_;     // control/user-defined/unknown, longest text first
  std::vector<std::string> pieces_;  // token_to_piece(id, special=true)
};

// Writes the clean-up the reference applies when detokenizing GPT-2-style vocabularies
// (" ?" " !" " ." " ," lose the space, " ' " -> "'", " 's" " 'm" " 're" " 've" lose the space).
void clean_up_tokenization_spaces(std::string& text);

}  // namespace agora
