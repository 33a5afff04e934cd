// ctest-labels: unit
// Per-tensor type choices of plan_quantization against the reference's rules: which tensors are
// quantized at all, output.weight, the _M layer pattern, fallbacks for short rows, the reference
// tensor order, and file-type names.
#include "engine/tensor/quant_plan.h"

#include <gtest/gtest.h>

#include <map>

namespace agora {
namespace {

QuantTensorDesc desc(std::string name, int64_t ne0, int64_t ne1 = 1) {
  QuantTensorDesc d;
  d.name = std::move(name);
  d.type = GgmlType::F16;
  d.ne[0] = ne0;
  d.ne[1] = ne1;
  return d;
}

// A llama-shaped model: embd x ff, n_layer layers.
std::vector<QuantTensorDesc> llama_tensors(int n_layer, int64_t embd, int64_t ff, bool with_output = true) {
  std::vector<QuantTensorDesc> ts = {desc("token_embd.weight", embd, 1000), desc("output_norm.weight", embd)};
  if (with_output) ts.push_back(desc("output.weight", embd, 1000));
  for (int il = 0; il < n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const char* n : {"attn_q.weight", "attn_output.weight"}) ts.push_back(desc(p + n, embd, embd));
    for (const char* n : {"attn_k.weight", "attn_v.weight"}) ts.push_back(desc(p + n, embd, embd / 4));
    ts.push_back(desc(p + "attn_norm.weight", embd));
    ts.push_back(desc(p + "ffn_norm.weight", embd));
    ts.push_back(desc(p + "ffn_gate.weight", embd, ff));
    ts.push_back(desc(p + "ffn_up.weight", embd, ff));
    ts.push_back(desc(p + "ffn_down.weight", ff, embd));
  }
  return ts;
}

std::map<std::string, GgmlType> plan_map(QuantFileType ft, const std::vector<QuantTensorDesc>& ts, int n_layer) {
  QuantModelInfo info{"llama", n_layer, 32, 8, 0};
  auto p = plan_quantization(ft, info, ts);
  EXPECT_TRUE(p.ok()) << p.status().message();
  std::map<std::string, GgmlType> m;
  if (!p.ok()) return m;
  for (size_t i = 0; i < ts.size(); ++i) m[ts[i].name] = p.value().types[i];
  return m;
}

TEST(QuantPlan, FileTypeNames) {
  EXPECT_EQ(quant_file_type_from_name("Q4_K_M"), QuantFileType::Q4_K_M);
  EXPECT_EQ(quant_file_type_from_name("q4_k_m"), QuantFileType::Q4_K_M);
  EXPECT_EQ(quant_file_type_from_name("Q4_K"), QuantFileType::Q4_K_M);
  EXPECT_EQ(quant_file_type_from_name("Q5_K"), QuantFileType::Q5_K_M);
  EXPECT_EQ(quant_file_type_from_name("Q8_0"), QuantFileType::Q8_0);
  EXPECT_FALSE(quant_file_type_from_name("Q4_K_X"));
  EXPECT_FALSE(quant_file_type_from_name(""));
  EXPECT_EQ(static_cast<uint32_t>(QuantFileType::Q4_K_M), 15u);  // general.file_type value
  EXPECT_EQ(quant_file_type_base(QuantFileType::Q5_K_M), GgmlType::Q5_K);
}

TEST(QuantPlan, NormsStayAndOutputGetsQ6K) {
  auto m = plan_map(QuantFileType::Q4_0, llama_tensors(2, 256, 512), 2);
  EXPECT_EQ(m["output_norm.weight"], GgmlType::F16);  // 1-D: copied as it is
  EXPECT_EQ(m["blk.0.attn_norm.weight"], GgmlType::F16);
  EXPECT_EQ(m["output.weight"], GgmlType::Q6_K);
  EXPECT_EQ(m["token_embd.weight"], GgmlType::Q4_0);
  EXPECT_EQ(m["blk.1.ffn_down.weight"], GgmlType::Q4_0);
  // Q8_0 keeps Q8_0 for the output.
  EXPECT_EQ(plan_map(QuantFileType::Q8_0, llama_tensors(2, 256, 512), 2)["output.weight"], GgmlType::Q8_0);
  // Without output.weight the tied embedding is treated as the output.
  EXPECT_EQ(plan_map(QuantFileType::Q4_0, llama_tensors(2, 256, 512, false), 2)["token_embd.weight"], GgmlType::Q6_K);
}

TEST(QuantPlan, Q4KMLayerPattern) {
  // 32 layers: use_more_bits = first 4, last 4, and every third from layer 6.
  auto m = plan_map(QuantFileType::Q4_K_M, llama_tensors(32, 256, 512), 32);
  std::string more;
  for (int il = 0; il < 32; ++il) {
    const GgmlType down = m["blk." + std::to_string(il) + ".ffn_down.weight"];
    const GgmlType v = m["blk." + std::to_string(il) + ".attn_v.weight"];
    EXPECT_EQ(down, v) << il;
    more += down == GgmlType::Q6_K ? 'x' : '.';
    EXPECT_EQ(m["blk." + std::to_string(il) + ".attn_q.weight"], GgmlType::Q4_K);
    EXPECT_EQ(m["blk." + std::to_string(il) + ".ffn_up.weight"], GgmlType::Q4_K);
  }
  EXPECT_EQ(more, "xxxx..x..x..x..x..x..x..x..xxxxx");
  EXPECT_EQ(m["output.weight"], GgmlType::Q6_K);
  EXPECT_EQ(m["token_embd.weight"], GgmlType::Q4_K);
  // Q5_K_M raises the same tensors.
  auto m5 = plan_map(QuantFileType::Q5_K_M, llama_tensors(32, 256, 512), 32);
  EXPECT_EQ(m5["blk.6.ffn_down.weight"], GgmlType::Q6_K);
  EXPECT_EQ(m5["blk.7.ffn_down.weight"], GgmlType::Q5_K);
}

TEST(QuantPlan, FallbacksForShortRows) {
  // Rows of 64 (not a multiple of 256): Q4_K -> Q5_0, Q6_K -> Q8_0; rows of 172: F16.
  auto m = plan_map(QuantFileType::Q4_K_M, llama_tensors(2, 64, 172), 2);
  EXPECT_EQ(m["blk.0.attn_q.weight"], GgmlType::Q5_0);
  EXPECT_EQ(m["blk.1.attn_v.weight"], GgmlType::Q8_0);
  EXPECT_EQ(m["blk.0.ffn_down.weight"], GgmlType::F16);
  EXPECT_EQ(m["output.weight"], GgmlType::Q8_0);
  // The legacy types have no fallback: planning fails and names the tensor.
  QuantModelInfo info{"llama", 2, 32, 8, 0};
  auto p = plan_quantization(QuantFileType::Q8_0, info, llama_tensors(2, 64, 172));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("blk.0.ffn_down.weight"), std::string::npos) << p.status().message();
}

TEST(QuantPlan, ReferenceTensorOrder) {
  // Non-layer tensors first (by name), then layer by layer numerically, by name within a layer.
  std::vector<QuantTensorDesc> ts = {desc("blk.10.ffn_up.weight", 256, 256), desc("token_embd.weight", 256, 256),
                                     desc("blk.2.attn_q.weight", 256, 256), desc("blk.2.attn_k.weight", 256, 256),
                                     desc("output.weight", 256, 256)};
  QuantModelInfo info{"llama", 11, 32, 8, 0};
  auto p = plan_quantization(QuantFileType::Q4_0, info, ts);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> names;
  for (size_t i : p.value().order) names.push_back(ts[i].name);
  EXPECT_EQ(names, (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.2.attn_k.weight",
                                             "blk.2.attn_q.weight", "blk.10.ffn_up.weight"}));
}

TEST(QuantPlan, FloatTargetsConvertEveryMatrix) {
  auto m = plan_map(QuantFileType::ALL_F32, llama_tensors(1, 64, 172), 1);
  EXPECT_EQ(m["blk.0.ffn_down.weight"], GgmlType::F32);
  EXPECT_EQ(m["output.weight"], GgmlType::F32);
  EXPECT_EQ(m["output_norm.weight"], GgmlType::F16);  // not a matrix: untouched
}

}  // namespace
}  // namespace agora
