#include "platform/openai/model_registry.h"

namespace agora::platform {

Status prepare_chat(ServedModel& m, const std::string& template_source) {
  std::string src = template_source;
  if (src.empty() && m.model) {
    if (auto t = m.model->file().get_str("tokenizer.chat_template")) src = std::string(*t);
  }
  m.chatml_fallback = src.empty();
  auto f = chat::ChatFormatter::create(src);
  if (!f.ok()) {
    // A template we cannot parse: serve with ChatML rather than refuse the model.
    m.chatml_fallback = true;
    f = chat::ChatFormatter::create("");
    if (!f.ok()) return f.status();
  }
  m.formatter.emplace(std::move(f.value()));
  const Vocab& v = *m.vocab;
  if (v.valid(v.bos())) m.bos_text = v.token_to_piece(v.bos(), true);
  if (v.valid(v.eos())) m.eos_text = v.token_to_piece(v.eos(), true);
  for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"}) {
    const TokenId id = v.find_token(name);
    if (v.valid(id) && !v.is_eog(id)) m.extra_eog.push_back(id);
  }
  return {};
}

}  // namespace agora::platform
