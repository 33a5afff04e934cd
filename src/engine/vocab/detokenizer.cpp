#include "engine/vocab/detokenizer.h"

#include "engine/vocab/unicode.h"

namespace agora {

void Detokenizer::reset() {
  pending_.clear();
  context_ = 0;
  first_ = true;
}

std::string Detokenizer::emit(size_t cut) {
  if (cut == 0) return std::string();
  std::string chunk = pending_.substr(0, cut);
  pending_.erase(0, cut);
  if (vocab_.clean_spaces()) {
    // Clean with the last emitted byte in front, as the whole-text clean-up would see it.
    if (context_ != 0) {
      chunk.insert(chunk.begin(), context_);
      clean_up_tokenization_spaces(chunk);
      chunk.erase(0, 1);
    } else {
      clean_up_tokenization_spaces(chunk);
    }
  }
  if (!chunk.empty()) context_ = chunk.back();
  return unicode::is_valid_utf8(chunk) ? chunk : unicode::sanitize_utf8(chunk);
}

std::string Detokenizer::push(TokenId id) {
  std::string piece = vocab_.token_to_piece(id, options_.unparse_special);
  if (first_ && options_.strip_leading_space && !piece.empty() && piece[0] == ' ') {
    piece.erase(0, 1);
  }
  first_ = false;
  pending_ += piece;

  size_t cut = unicode::complete_utf8_prefix(pending_);
  if (vocab_.clean_spaces()) {
    // A clean-up pattern spans a space and at most 3 bytes after it: keep back every space
    // whose pattern could still reach past the cut, and everything after it.
    for (size_t p = cut; p-- > 0 && p + 3 >= cut;) {
      if (pending_[p] == ' ') cut = p;
    }
  }
  return emit(cut);
}

std::string Detokenizer::finish() {
  std::string out = emit(pending_.size());
  first_ = true;
  context_ = 0;
  return out;
}

}  // namespace agora
