// `agora quantize IN.gguf OUT.gguf TYPE`: writes a copy of a model with its weights quantized.
//
//   agora quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M
//
// Per-tensor types follow the reference's choices (engine/tensor/quant_plan.h): norms and other
// 1-D tensors stay as they are, output.weight gets Q6_K, the _M mixes raise some layers'
// attn_v/ffn_down, rows that do not fill a type's blocks fall back. The output lists metadata
// and tensors in the reference's order (input metadata, then general.quantization_version and
// general.file_type; tensors layer by layer), so that on the same input the file matches one
// written by llama-quantize. Input tensors may be F32, F16 or BF16; quantized inputs are refused
// unless --allow-requantize. Progress goes to stderr; exit 2 on bad arguments or files.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "engine/gguf/gguf_reader.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/kernels/thread_pool.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/quant_plan.h"
#include "engine/tensor/quantize.h"

namespace agora::cli {
namespace {

struct QuantizeOptions {
  std::string in, out, type;
  int threads = 0;
  bool allow_requantize = false;
};

int64_t meta_int(const GgufFile& f, const std::string& key, int64_t dflt) {
  const GgufValue* v = f.find(key);
  if (!v) return dflt;
  if (v->type == GgufValueType::ARRAY) return v->ints.empty() ? dflt : v->ints[0];  // per-layer arrays
  return v->is_integer() ? v->i64 : dflt;
}

// The tensor's dimensions as GGUF writes them: trailing 1s dropped, at least one.
std::vector<int64_t> dims_of(const GgufTensorInfo& t) {
  std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
  while (ne.size() > 1 && ne.back() == 1) ne.pop_back();
  return ne;
}

void quantize(const QuantizeOptions& o) {
  const auto ft = quant_file_type_from_name(o.type);
  if (!ft) {
    fail(2, "unknown type '" + o.type + "'; known: " + quant_file_type_names());
    return;
  }
  auto file = GgufFile::open(o.in);
  if (!file.ok()) {
    fail(2, file.status().message());
    return;
  }
  const GgufFile& in = *file.value();
  QuantModelInfo info;
  info.arch = std::string(in.get_str("general.architecture").value_or(""));
  if (info.arch.empty()) {
    fail(2, o.in + ": no general.architecture");
    return;
  }
  info.n_layer = meta_int(in, info.arch + ".block_count", 0);
  info.n_head = meta_int(in, info.arch + ".attention.head_count", 0);
  info.n_head_kv = meta_int(in, info.arch + ".attention.head_count_kv", info.n_head);
  info.n_expert = meta_int(in, info.arch + ".expert_count", 0);

  std::vector<QuantTensorDesc> descs;
  for (const auto& t : in.tensors()) {
    QuantTensorDesc d;
    d.name = t.name;
    d.type = t.type;
    for (int i = 0; i < 4; ++i) d.ne[i] = t.ne[i];
    descs.push_back(d);
  }
  auto plan = plan_quantization(*ft, info, descs);
  if (!plan.ok()) {
    fail(2, o.in + ": " + plan.status().message());
    return;
  }
  const QuantPlan& p = plan.value();
  for (size_t i = 0; i < descs.size(); ++i) {
    const GgmlType src = descs[i].type, dst = p.types[i];
    if (src == dst) continue;
    if (type_info(src).quantized && !o.allow_requantize) {
      fail(2, o.in + ": tensor " + descs[i].name + " is already " + std::string(type_name(src)) +
                  "; quantize from F32/F16/BF16 (or pass --allow-requantize)");
      return;
    }
    if (!quantize_row_fn(dst)) {
      fail(2, "tensor " + descs[i].name + " needs type " + std::string(type_name(dst)) + ", which Agora cannot write yet");
      return;
    }
  }

  GgufWriter w(in.alignment());
  for (const auto& [key, value] : in.metadata()) {
    if (key == "general.quantization_version" || key == "general.file_type" || key == "split.no" ||
        key == "split.count" || key == "split.tensors.count")
      continue;
    w.set_value(key, value);
  }
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", static_cast<uint32_t>(*ft));

  ThreadPool pool(o.threads > 0 ? o.threads : ThreadPool::default_threads());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> f32;
  std::vector<uint8_t> outbuf;
  uint64_t bytes_in = 0, bytes_out = 0;
  size_t n_done = 0;
  for (size_t idx : p.order) {
    const GgufTensorInfo& t = in.tensors()[idx];
    const GgmlType dst = p.types[idx];
    const std::vector<int64_t> ne = dims_of(t);
    bytes_in += t.n_bytes;
    ++n_done;
    if (dst == t.type) {
      Status st = w.add_tensor(t.name, t.type, ne, t.data, t.n_bytes);
      if (!st.ok()) {
        fail(2, st.message());
        return;
      }
      bytes_out += t.n_bytes;
      continue;
    }
    const int64_t n_per_row = t.ne[0], n_rows = t.n_rows();
    const size_t src_row = row_size(t.type, n_per_row), dst_row = row_size(dst, n_per_row);
    f32.resize(static_cast<size_t>(t.n_elements()));
    outbuf.resize(dst_row * static_cast<size_t>(n_rows));
    const QuantizeRowFn qfn = quantize_row_fn(dst);
    pool.parallel_for(n_rows, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        float* row = f32.data() + r * n_per_row;
        if (t.type == GgmlType::F32)
          std::memcpy(row, t.data + static_cast<size_t>(r) * src_row, src_row);
        else
          dequantize_row(t.type, t.data + static_cast<size_t>(r) * src_row, row, n_per_row);
        qfn(row, outbuf.data() + static_cast<size_t>(r) * dst_row, n_per_row);
      }
    });
    Status st = w.add_tensor(t.name, dst, ne, outbuf.data(), outbuf.size());
    if (!st.ok()) {
      fail(2, st.message());
      return;
    }
    bytes_out += outbuf.size();
    std::fprintf(stderr, "[%3zu/%3zu] %-32s %-6s -> %-6s\n", n_done, p.order.size(), t.name.c_str(),
                 std::string(type_name(t.type)).c_str(), std::string(type_name(dst)).c_str());
  }
  Status st = w.write(o.out);
  if (!st.ok()) {
    fail(2, st.message());
    return;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "agora: %s -> %s (%s): %.2f MiB -> %.2f MiB, %d fallback tensor(s), %.2f s\n", o.in.c_str(),
               o.out.c_str(), std::string(quant_file_type_name(*ft)).c_str(), bytes_in / 1048576.0,
               bytes_out / 1048576.0, p.n_fallback, s);
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  auto* cmd = app.add_subcommand("quantize", "Write a copy of a model with quantized weights");
  cmd->add_option("input", o->in, "Input GGUF model (F32/F16/BF16 weights)")->required();
  cmd->add_option("output", o->out, "Output GGUF file")->required();
  cmd->add_option("type", o->type, "Target type: " + quant_file_type_names())->required();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--allow-requantize", o->allow_requantize, "Accept already quantized input tensors");
  cmd->callback([o] { quantize(*o); });
}

}  // namespace agora::cli
