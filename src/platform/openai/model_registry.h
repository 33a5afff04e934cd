// ModelRegistry: the models `agora serve` offers, by id. Each ServedModel owns its weights, its
// tokenizer, its chat formatter and the Backend that runs it. Built once at start-up, then
// read-only (lookups from any I/O thread need no lock).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/chat/chat_formatter.h"
#include "engine/model.h"
#include "engine/vocab/vocab.h"

namespace agora::platform {

struct ServedModel {
  std::string id;            // what clients put in `model`
  int64_t created = 0;       // unix seconds (file modification time)
  std::string fingerprint;   // system_fingerprint
  std::unique_ptr<Model> model;   // may be null for test backends
  std::unique_ptr<Vocab> vocab;
  std::unique_ptr<Backend> backend;
  std::optional<chat::ChatFormatter> formatter;  // the GGUF's template, or ChatML
  bool chatml_fallback = false;  // the model ships no template
  std::string bos_text, eos_text;
  std::vector<int32_t> extra_eog;  // e.g. <|im_end|> for the ChatML fallback
};

class ModelRegistry {
 public:
  void add(std::unique_ptr<ServedModel> model) { models_.push_back(std::move(model)); }
  ServedModel* find(const std::string& id) const {
    for (const auto& m : models_)
      if (m->id == id) return m.get();
    return nullptr;
  }
  const std::vector<std::unique_ptr<ServedModel>>& all() const { return models_; }

 private:
  std::vector<std::unique_ptr<ServedModel>> models_;
};

// Completes a ServedModel whose vocab (and optionally model) are set: reads the chat template
// from `tokenizer.chat_template` (or falls back to ChatML), the BOS/EOS texts and extra
// end-of-generation tokens. `template_source` empty → read from the model's GGUF if present.
Status prepare_chat(ServedModel& m, const std::string& template_source = {});

}  // namespace agora::platform
