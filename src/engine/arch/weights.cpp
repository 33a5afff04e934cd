#include "engine/arch/weights.h"

#include "engine/kernels/type_ops.h"

#include <cstdlib>

#include <sys/mman.h>

#include "engine/kernels/repacked.h"

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

void ModelWeights::FreeBytes::operator()(uint8_t* p) const { std::free(p); }

void repack_weights(ModelWeights& w) {
  if (const char* e = std::getenv("AGORA_NO_REPACK"); e && *e && *e != '0') return;
  auto repack = [&](WeightView& v) {
    if (!v.data) return;
    // Q8_0 only where a fast kernel for the layout exists (AVX-VNNI); elsewhere its rows are faster.
    WeightLayout to = WeightLayout::rows;
    size_t bytes = 0;
    if (q4_0x8_eligible(v)) {
      to = WeightLayout::q4_0x8;
      bytes = q4_0x8_bytes(v.n_in, v.n_out);
    } else if (q8_0x8_eligible(v) && q8_0x8_kernel() != nullptr) {
      to = WeightLayout::q8_0x8;
      bytes = q8_0x8_bytes(v.n_in, v.n_out);
    } else if (q4_kx8_eligible(v) && q4_kx8_kernel() != q4_kx8_kernel_scalar()) {
      // The K-quants too only with a SIMD kernel (their scalar reference is slower than the rows').
      to = WeightLayout::q4_kx8;
      bytes = q4_kx8_bytes(v.n_in, v.n_out);
    } else if (q6_kx8_eligible(v) && q6_kx8_kernel() != q6_kx8_kernel_scalar()) {
      to = WeightLayout::q6_kx8;
      bytes = q6_kx8_bytes(v.n_in, v.n_out);
    }
    if (to == WeightLayout::rows) return;
    // 2 MiB aligned and marked for transparent huge pages: decode streams these bytes once per
    // token, and with 4 KiB pages every page boundary costs a TLB walk and stalls the prefetchers.
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t align = bytes >= kHuge ? kHuge : 64;
    auto* dst = static_cast<uint8_t*>(std::aligned_alloc(align, (bytes + align - 1) / align * align));
    if (!dst) return;  // keep the file's layout rather than fail the load
#ifdef MADV_HUGEPAGE
    if (align == kHuge) (void)madvise(dst, (bytes + align - 1) / align * align, MADV_HUGEPAGE);
#endif
    const int64_t groups = v.n_out / 8;
    if (to == WeightLayout::q4_0x8) repack_q4_0x8(v, dst, 0, groups);
    else if (to == WeightLayout::q8_0x8) repack_q8_0x8(v, dst, 0, groups);
    else if (to == WeightLayout::q4_kx8) repack_q4_kx8(v, dst, 0, groups);
    else repack_q6_kx8(v, dst, 0, groups);
    w.repacked.emplace_back(dst);
    v.data = dst;
    v.layout = to;
  };
  for (LayerWeights& l : w.layers) {
    for (WeightView* v : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) repack(*v);
  }
  repack(w.output);  // a tied output gets its own copy; tok_embd keeps the rows
}

}  // namespace agora
