// ctest-labels: unit
// Model loading: hyperparameters and weight shapes are validated, errors name the tensor/key.
#include <gtest/gtest.h>

#include "engine/gguf/gguf_writer.h"
#include "engine/model.h"

namespace agora {
namespace {

TEST(ModelLoad, ModelLoaderRejectsWrongShapesAndMissingTensors) {
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_u32("llama.context_length", 64);
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.feed_forward_length", 64);
  w.set_u32("llama.attention.head_count", 4);
  std::vector<float> emb(32 * 10, 0.1f);
  ASSERT_TRUE(w.add_tensor("token_embd.weight", GgmlType::F32, {32, 10}, emb.data(), emb.size() * 4).ok());
  std::string bytes = w.serialize();
  auto f = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "m.gguf");
  ASSERT_TRUE(f.ok());
  auto m = Model::from_file(std::move(f.value()));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("output_norm.weight"), std::string::npos) << m.status().message();

  GgufWriter w2;
  w2.set_str("general.architecture", "mamba9");
  std::string b2 = w2.serialize();
  auto f2 = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(b2.data()), b2.size(), "m.gguf");
  auto m2 = Model::from_file(std::move(f2.value()));
  ASSERT_FALSE(m2.ok());
  EXPECT_NE(m2.status().message().find("mamba9"), std::string::npos);
}

}  // namespace
}  // namespace agora
