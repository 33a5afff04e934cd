// libFuzzer target: arbitrary bytes through the GGUF reader, the model loader and the vocab
// loader. Any crash, sanitizer report or leak is a bug; errors are the expected outcome.
#include <cstddef>
#include <cstdint>

#include "engine/gguf/gguf_reader.h"
#include "engine/model.h"
#include "engine/vocab/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = agora::GgufFile::from_memory(data, size, "fuzz.gguf");
  if (!f.ok()) return 0;
  for (const auto& [k, v] : f.value()->metadata()) (void)v.to_string();
  auto vocab = agora::Vocab::load(*f.value());
  if (vocab.ok()) {
    auto ids = vocab.value()->tokenize("Hello world <|im_start|> \xff\xfe", true, true);
    (void)vocab.value()->detokenize(ids);
  }
  (void)agora::Model::from_file(std::move(f.value()));
  return 0;
}
