// Streaming detokenizer: turns generated token ids into text one token at a time and emits
// only text that can no longer change, so a streamed completion never shows a broken
// character or a space the final text would not have.
//
//   Detokenizer d(vocab);
//   for (TokenId id : generated) send(d.push(id));   // each chunk is valid UTF-8
//   send(d.finish());
//
// Guarantees: every returned chunk is valid UTF-8, and the concatenation of all chunks equals
// sanitize_utf8(vocab.detokenize(ids, false, unparse_special)) (with strip_leading_space =
// vocab.add_space_prefix(); see tests/engine/vocab/detokenizer_test.cpp). Held back:
//  * an incomplete UTF-8 sequence at the end (a byte token may complete it);
//  * for clean-up vocabularies (GPT-2 style), a space near the end, since a following
//    " ," / " 's" would remove it.
// Bytes that can never form a character become U+FFFD. One Detokenizer per stream; it
// references the Vocab, which must outlive it.
#pragma once

#include <string>

#include "engine/vocab/vocab.h"

namespace agora {

class Detokenizer {
 public:
  struct Options {
    bool unparse_special = false;      // render control tokens ("<|im_end|>")
    bool strip_leading_space = false;  // drop the SPM leading space of the first token
  };
  explicit Detokenizer(const Vocab& vocab) : Detokenizer(vocab, Options{}) {}
  Detokenizer(const Vocab& vocab, Options options) : vocab_(vocab), options_(options) {}

  // Adds one token; returns the text that became final (possibly empty).
  std::string push(TokenId id);
  // Ends the stream: returns everything still held back (invalid bytes as U+FFFD).
  std::string finish();
  void reset();

 private:
  std::string emit(size_t cut);

  const Vocab& vocab_;
  Options options_;
  std::string pending_;  // raw bytes not yet emitted
  char context_ = 0;     // last emitted byte (clean-up looks one byte back)
  bool first_ = true;
};

}  // namespace agora
