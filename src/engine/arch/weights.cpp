#include "engine/arch/weights.h"

#include "engine/kernels/type_ops.h"

namespace agora {

Status WeightBinder::matrix(const std::string& name, int64_t n_in, int64_t n_out, WeightView& out, bool required) {
  const GgufTensorInfo* t = file_.tensor(name);
  if (!t) {
    if (required) return Status(ErrorCode::invalid_file, file_.path() + ": tensor '" + name + "' is missing");
    return {};
  }
  if (t->n_dims > 2 || t->ne[0] != n_in || t->ne[1] != n_out)
    return Status(ErrorCode::invalid_file, file_.path() + ": tensor '" + name + "' has shape [" + std::to_string(t->ne[0]) + ", " +
                                               std::to_string(t->ne[1]) + "], expected [" + std::to_string(n_in) + ", " +
                                               std::to_string(n_out) + "]");
  if (t->type == GgmlType::Q8_K || t->type == GgmlType::Q8_1)
    return Status(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has activation-only type " +
                                              std::string(type_name(t->type)));
  out.type = t->type;
  out.data = t->data;
  out.n_in = n_in;
  out.n_out = n_out;
  out.row_bytes = row_size(t->type, n_in);
  return {};
}

Status WeightBinder::vector(const std::string& name, int64_t n, const float*& out, bool required) {
  const GgufTensorInfo* t = file_.tensor(name);
  if (!t) {
    if (required) return Status(ErrorCode::invalid_file, file_.path() + ": tensor '" + name + "' is missing");
    return {};
  }
  if (t->n_elements() != n || t->ne[0] != n)
    return Status(ErrorCode::invalid_file, file_.path() + ": tensor '" + name + "' has " + std::to_string(t->n_elements()) +
                                               " values, expected " + std::to_string(n));
  if (t->type == GgmlType::F32) {
    out = reinterpret_cast<const float*>(t->data);
    return {};
  }
  const TypeOps& ops = type_ops(t->type);
  if (!ops.to_float) return Status(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "': type cannot be converted");
  auto buf = std::make_unique<float[]>(static_cast<size_t>(n));
  ops.to_float(t->data, buf.get(), n);
  out = buf.get();
  w_.owned.push_back(std::move(buf));
  return {};
}

Status bind_weights(const GgufFile& file, const ModelParams& p, ModelWeights& w) {
  WeightBinder b(file, w);
  w.layers.assign(static_cast<size_t>(p.n_layer), LayerWeights{});
  Status s = b.matrix("token_embd.weight", p.n_embd, p.n_vocab, w.tok_embd);
  if (!s.ok()) return s;
  if (p.arch == ArchKind::bert) return bind_bert_weights(b, p, w);
  s = b.vector("output_norm.weight", p.n_embd, w.output_norm);
  if (!s.ok()) return s;
  if (b.has("output.weight")) {
    s = b.matrix("output.weight", p.n_embd, p.n_vocab, w.output);
    if (!s.ok()) return s;
  } else {
    w.output = w.tok_embd;  // tied embeddings
  }
  switch (p.arch) {
    case ArchKind::llama: return bind_llama_weights(b, p, w);
    case ArchKind::qwen2: return bind_qwen2_weights(b, p, w);
    case ArchKind::phi3: return bind_phi3_weights(b, p, w);
    case ArchKind::gemma2: return bind_gemma2_weights(b, p, w);
    case ArchKind::bert: return bind_bert_weights(b, p, w);
  }
  return Status(ErrorCode::unsupported, "unknown architecture");
}

}  // namespace agora
