// `agora synth`: writes a random-weight model of any shape and type, for benchmarks and tests of
// sizes that cannot be shipped.
//
//   agora synth --arch llama --n-embd 2048 --n-layer 16 --n-head 32 --n-head-kv 8 --n-ff 5632
//       --vocab-from VOCAB.gguf --type Q4_0 [--seed 1] [--n-ctx 4096] OUT.gguf
//
// The file follows the standard GGUF conventions of each architecture (tensor names and shapes,
// `<arch>.*` metadata keys as the reference's converter writes them), and every `tokenizer.*` key
// is copied from --vocab-from, so the reference engine loads the very same file. Weights are
// uniform random with standard deviation 1/sqrt(row length) (norms 1, biases small), a pure
// function of --seed: each row has its own generator seeded from (seed, tensor, row), so the
// output is identical for any thread count. --type is a file type as in `agora quantize`
// (F32, F16, Q8_0, Q4_K_M, ...), with the same per-tensor choices.
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "engine/gguf/gguf_reader.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/kernels/thread_pool.h"
#include "engine/tensor/quant_plan.h"
#include "engine/tensor/quantize.h"

namespace agora::cli {
namespace {

struct SynthOptions {
  std::string arch, vocab_from, type = "F16", out;
  int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_ctx = 4096;
  int64_t sliding_window = 0;  // 0: the architecture's default (gemma2 4096, phi3 n_ctx)
  uint64_t seed = 1;
  int threads = 0;
};

// What a tensor holds: a weight matrix, a norm (all ones) or a bias (small values).
enum class Fill { matrix, norm, bias };

struct SynthTensor {
  std::string name;
  int64_t ne0 = 0, ne1 = 1;  // row length, rows (ne1 == 1: a vector)
  Fill fill = Fill::matrix;
};

// SplitMix64: a tiny, well-mixed generator; one per row keeps the output thread-independent.
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float uniform() { return static_cast<float>(static_cast<int64_t>(next() >> 40) - (int64_t(1) << 23)) * 0x1p-23f; }
};

void fill_row(const SynthTensor& t, uint64_t seed, size_t tensor_index, int64_t row, float* out) {
  SplitMix64 g{seed * 0x100000001B3ull ^ (static_cast<uint64_t>(tensor_index) << 40) ^ static_cast<uint64_t>(row)};
  g.next();
  switch (t.fill) {
    case Fill::norm:
      for (int64_t i = 0; i < t.ne0; ++i) out[i] = 1.0f;
      break;
    case Fill::bias:
      for (int64_t i = 0; i < t.ne0; ++i) out[i] = 0.02f * g.uniform();
      break;
    case Fill::matrix: {
      // Uniform on [-a, a] has standard deviation a / sqrt(3).
      const float a = std::sqrt(3.0f / static_cast<float>(t.ne0));
      for (int64_t i = 0; i < t.ne0; ++i) out[i] = a * g.uniform();
      break;
    }
  }
}

// The tensors of one architecture, in the converter's order.
std::vector<SynthTensor> arch_tensors(const SynthOptions& o, int64_t n_vocab) {
  const int64_t hd = o.n_embd / o.n_head, n_q = hd * o.n_head, n_kv = hd * o.n_head_kv;
  std::vector<SynthTensor> ts;
  auto mat = [&](std::string name, int64_t n_in, int64_t n_out) { ts.push_back({std::move(name), n_in, n_out, Fill::matrix}); };
  auto norm = [&](std::string name) { ts.push_back({std::move(name), o.n_embd, 1, Fill::norm}); };
  auto bias = [&](std::string name, int64_t n) { ts.push_back({std::move(name), n, 1, Fill::bias}); };
  mat("token_embd.weight", o.n_embd, n_vocab);
  norm("output_norm.weight");
  if (o.arch != "gemma2") mat("output.weight", o.n_embd, n_vocab);  // gemma2 ties the embeddings
  for (int64_t il = 0; il < o.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    norm(p + "attn_norm.weight");
    if (o.arch == "phi3") {
      mat(p + "attn_qkv.weight", o.n_embd, n_q + 2 * n_kv);
    } else {
      mat(p + "attn_q.weight", o.n_embd, n_q);
      mat(p + "attn_k.weight", o.n_embd, n_kv);
      mat(p + "attn_v.weight", o.n_embd, n_kv);
      if (o.arch == "qwen2") {
        bias(p + "attn_q.bias", n_q);
        bias(p + "attn_k.bias", n_kv);
        bias(p + "attn_v.bias", n_kv);
      }
    }
    mat(p + "attn_output.weight", n_q, o.n_embd);
    if (o.arch == "gemma2") norm(p + "post_attention_norm.weight");
    norm(p + "ffn_norm.weight");
    if (o.arch == "phi3") {
      mat(p + "ffn_up.weight", o.n_embd, 2 * o.n_ff);  // gate | up
    } else {
      mat(p + "ffn_gate.weight", o.n_embd, o.n_ff);
      mat(p + "ffn_up.weight", o.n_embd, o.n_ff);
    }
    mat(p + "ffn_down.weight", o.n_ff, o.n_embd);
    if (o.arch == "gemma2") norm(p + "post_ffw_norm.weight");
  }
  return ts;
}

void synth(const SynthOptions& o) {
  if (o.arch != "llama" && o.arch != "qwen2" && o.arch != "phi3" && o.arch != "gemma2") {
    fail(2, "--arch must be llama, qwen2, phi3 or gemma2");
    return;
  }
  for (auto [name, v] : {std::pair<const char*, int64_t>{"--n-embd", o.n_embd}, {"--n-layer", o.n_layer},
                         {"--n-head", o.n_head}, {"--n-head-kv", o.n_head_kv}, {"--n-ff", o.n_ff}, {"--n-ctx", o.n_ctx}}) {
    if (v <= 0 || v > (int64_t(1) << 20)) {
      fail(2, std::string(name) + " must be in 1.." + std::to_string(int64_t(1) << 20));
      return;
    }
  }
  if (o.n_embd % o.n_head != 0 || (o.n_embd / o.n_head) % 2 != 0) {
    fail(2, "--n-head must divide --n-embd into an even head size");
    return;
  }
  if (o.n_head % o.n_head_kv != 0) {
    fail(2, "--n-head-kv must divide --n-head");
  if (o.sliding_window < 0 || o.sliding_window > (int64_t(1) << 20))
    fail(2, "--sliding-window must be in 0.." + std::to_string(int64_t(1) << 20));
  if (o.sliding_window > 0 && o.arch != "gemma2" && o.arch != "phi3")
    fail(2, "--sliding-window applies to gemma2 and phi3 only");
    return;
  }
  const auto ft = quant_file_type_from_name(o.type);
  if (!ft) {
    fail(2, "unknown --type '" + o.type + "'; known: " + quant_file_type_names());
    return;
  }
  auto vf = GgufFile::open(o.vocab_from);
  if (!vf.ok()) {
    fail(2, vf.status().message());
    return;
  }
  const GgufFile& vocab = *vf.value();
  const auto* tokens = vocab.get_str_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->empty()) {
    fail(2, o.vocab_from + ": no tokenizer.ggml.tokens");
    return;
  }
  const int64_t n_vocab = static_cast<int64_t>(tokens->size());

  const std::vector<SynthTensor> ts = arch_tensors(o, n_vocab);
  std::vector<QuantTensorDesc> descs;
  for (const auto& t : ts) {
    QuantTensorDesc d;
    d.name = t.name;
    d.type = GgmlType::F32;
    d.ne[0] = t.ne0;
    d.ne[1] = t.ne1;
    descs.push_back(d);
  }
  QuantModelInfo info{o.arch, o.n_layer, o.n_head, o.n_head_kv, 0};
  auto plan = plan_quantization(*ft, info, descs);
  if (!plan.ok()) {
    fail(2, plan.status().message());
    return;
  }
  for (size_t i = 0; i < ts.size(); ++i)
    if (!quantize_row_fn(plan.value().types[i])) {
      fail(2, "tensor " + ts[i].name + " needs type " + std::string(type_name(plan.value().types[i])) +
                  ", which Agora cannot write yet");
      return;
    }

  // Metadata as the reference's converter writes it.
  GgufWriter w;
  const std::string a = o.arch + ".";
  const int64_t hd = o.n_embd / o.n_head;
  w.set_str("general.architecture", o.arch);
  w.set_str("general.name", "agora-synth-" + o.arch);
  w.set_u32(a + "context_length", static_cast<uint32_t>(o.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(o.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(o.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(o.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(o.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(o.n_head_kv));
  if (o.arch == "gemma2") {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(hd));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(hd));
    w.set_f32(a + "rope.freq_base", 10000.0f);
    w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
    w.set_f32(a + "attn_logit_softcapping", 50.0f);
    w.set_f32(a + "final_logit_softcapping", 30.0f);
    w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(o.sliding_window > 0 ? o.sliding_window : 4096));
  } else if (o.arch == "qwen2") {
    w.set_f32(a + "rope.freq_base", 1000000.0f);
    w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  } else {
    if (o.arch == "phi3") {
      w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(o.n_ctx));
      w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(o.sliding_window > 0 ? o.sliding_window : o.n_ctx));
    }
    w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(hd));
    w.set_f32(a + "rope.freq_base", 10000.0f);
    w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  }
  w.set_u32("general.file_type", static_cast<uint32_t>(*ft));
  w.set_u32("general.quantization_version", 2);
  for (const auto& [key, value] : vocab.metadata())
    if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);

  ThreadPool pool(o.threads > 0 ? o.threads : ThreadPool::default_threads());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<uint8_t> buf;
  uint64_t n_params = 0, n_bytes = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const SynthTensor& t = ts[i];
    const GgmlType type = plan.value().types[i];
    const size_t rb = row_size(type, t.ne0);
    buf.resize(rb * static_cast<size_t>(t.ne1));
    const QuantizeRowFn qfn = quantize_row_fn(type);
    pool.parallel_for(t.ne1, [&](int64_t b, int64_t e) {
      std::vector<float> row(static_cast<size_t>(t.ne0));  // per chunk, not per row
      for (int64_t r = b; r < e; ++r) {
        fill_row(t, o.seed, i, r, row.data());
        qfn(row.data(), buf.data() + static_cast<size_t>(r) * rb, t.ne0);
      }
    });
    std::vector<int64_t> ne = {t.ne0};
    if (t.ne1 > 1) ne.push_back(t.ne1);
    Status st = w.add_tensor(t.name, type, ne, buf.data(), buf.size());
    if (!st.ok()) {
      fail(2, st.message());
      return;
    }
    n_params += static_cast<uint64_t>(t.ne0 * t.ne1);
    n_bytes += buf.size();
  }
  Status st = w.write(o.out);
  if (!st.ok()) {
    fail(2, st.message());
    return;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "agora: wrote %s: %s %s, %.3f B params, %.1f MiB of weights, vocab %" PRId64 ", %.2f s\n",
               o.out.c_str(), o.arch.c_str(), std::string(quant_file_type_name(*ft)).c_str(), n_params / 1e9,
               n_bytes / 1048576.0, n_vocab, s);
}

}  // namespace

void register_synth(CLI::App& app) {
  auto o = std::make_shared<SynthOptions>();
  auto* cmd = app.add_subcommand("synth", "Write a random-weight model of any shape and type");
  cmd->add_option("--arch", o->arch, "Architecture: llama, qwen2, phi3, gemma2")->required();
  cmd->add_option("--n-embd", o->n_embd, "Embedding width")->required();
  cmd->add_option("--n-layer", o->n_layer, "Layers")->required();
  cmd->add_option("--n-head", o->n_head, "Attention heads")->required();
  cmd->add_option("--n-head-kv", o->n_head_kv, "Key/value heads")->required();
  cmd->add_option("--n-ff", o->n_ff, "Feed-forward width")->required();
  cmd->add_option("--n-ctx", o->n_ctx, "Training context length written to the file (default 4096)");
  cmd->add_option("--vocab-from", o->vocab_from, "GGUF file whose tokenizer is copied")->required();
  cmd->add_option("--type", o->type, "File type as in agora quantize (default F16)");
  cmd->add_option("--seed", o->seed, "Random seed (default 1)");
  cmd->add_option("--sliding-window", o->sliding_window,
                  "Attention window in positions, gemma2 and phi3 (default: gemma2 4096, phi3 the context)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("output", o->out, "Output GGUF file")->required();
  cmd->callback([o] { synth(*o); });
}

}  // namespace agora::cli
