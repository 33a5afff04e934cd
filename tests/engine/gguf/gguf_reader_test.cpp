// ctest-labels: unit
#include "engine/gguf/gguf_reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "engine/gguf/gguf_writer.h"
#include "support/testdata.h"

namespace agora {
namespace {

TEST(GgufReader, ReadsStoriesModel) {
  auto f = GgufFile::open(test::testdata_path("models/stories260K.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f.value()->get_str("general.architecture").value_or(""), "llama");
  EXPECT_EQ(f.value()->get_u32("llama.embedding_length").value_or(0), 64u);
  EXPECT_EQ(f.value()->get_u32("llama.block_count").value_or(0), 5u);
  const auto* tokens = f.value()->get_str_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->size(), 512u);
  const GgufTensorInfo* emb = f.value()->tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, GgmlType::F32);
  EXPECT_EQ(emb->ne[0], 64);
  EXPECT_EQ(emb->ne[1], 512);
  EXPECT_EQ(emb->n_bytes, 64u * 512u * 4u);
}

TEST(GgufReader, ReadsEveryTestModelAndVocab) {
  for (const char* rel : {"models/stories260K-F16.gguf", "models/stories260K-Q4_K_M.gguf", "models/llama-2-tiny-random.gguf",
                          "models/rand-llama.gguf", "models/rand-llama-Q8_0.gguf", "models/rand-llama-Q4_0.gguf",
                          "models/rand-llama-Q4_K_M.gguf", "models/rand-qwen2.gguf", "models/rand-phi3.gguf",
                          "models/rand-gemma2.gguf", "vocab/ggml-vocab-qwen2.gguf", "vocab/ggml-vocab-bert-bge.gguf"}) {
    auto f = GgufFile::open(test::testdata_path(rel));
    EXPECT_TRUE(f.ok()) << rel << ": " << f.status().message();
  }
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_u32("llama.block_count", 7);
  w.set_i64("x.i64", -5);
  w.set_f32("x.f32", 1.5f);
  w.set_f64("x.f64", 2.25);
  w.set_bool("x.bool", true);
  w.set_u8("x.u8", 200);
  w.set_i16("x.i16", -300);
  w.set_str_array("x.strs", {"a", "", "héllo"});
  w.set_i32_array("x.ints", {1, -2, 3});
  w.set_f32_array("x.floats", {0.5f, -1.f});
  std::vector<float> data(2 * 3);
  for (int i = 0; i < 6; ++i) data[i] = float(i) * 0.5f;
  ASSERT_TRUE(w.add_tensor("t0", GgmlType::F32, {3, 2}, data.data(), data.size() * 4).ok());
  std::vector<uint16_t> half(32, 0x3c00);
  ASSERT_TRUE(w.add_tensor("t1", GgmlType::F16, {32}, half.data(), 64).ok());
  EXPECT_FALSE(w.add_tensor("bad", GgmlType::Q8_0, {31}, half.data(), 34).ok());
  std::string bytes = w.serialize();

  auto f = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f.value()->version(), 3u);
  EXPECT_EQ(f.value()->get_str("general.architecture").value_or(""), "llama");
  EXPECT_EQ(f.value()->get_u32("llama.block_count").value_or(0), 7u);
  EXPECT_EQ(f.value()->get_i64("x.i64").value_or(0), -5);
  EXPECT_FLOAT_EQ(f.value()->get_f32("x.f32").value_or(0), 1.5f);
  EXPECT_DOUBLE_EQ(f.value()->get_f64("x.f64").value_or(0), 2.25);
  EXPECT_TRUE(f.value()->get_bool("x.bool").value_or(false));
  EXPECT_EQ(f.value()->get_u32("x.u8").value_or(0), 200u);
  EXPECT_EQ(f.value()->get_i64("x.i16").value_or(0), -300);
  EXPECT_FALSE(f.value()->get_u32("general.architecture").has_value());  // wrong type
  EXPECT_FALSE(f.value()->get_u64("x.i64").has_value());                  // negative
  ASSERT_NE(f.value()->get_str_array("x.strs"), nullptr);
  EXPECT_EQ((*f.value()->get_str_array("x.strs"))[2], "héllo");
  ASSERT_NE(f.value()->get_int_array("x.ints"), nullptr);
  EXPECT_EQ((*f.value()->get_int_array("x.ints"))[1], -2);
  ASSERT_NE(f.value()->get_float_array("x.floats"), nullptr);
  EXPECT_EQ((*f.value()->get_float_array("x.floats"))[0], 0.5);
  const GgufTensorInfo* t0 = f.value()->tensor("t0");
  ASSERT_NE(t0, nullptr);
  EXPECT_EQ(t0->ne[0], 3);
  EXPECT_EQ(t0->ne[1], 2);
  EXPECT_EQ(std::memcmp(t0->data, data.data(), 24), 0);
  EXPECT_EQ((f.value()->tensor("t1")->data - reinterpret_cast<const uint8_t*>(bytes.data())) % 32, 0);

  // Re-serializing everything read gives a file with the same metadata.
  GgufWriter w2;
  for (const auto& [k, v] : f.value()->metadata()) w2.set_value(k, v);
  std::string bytes2 = w2.serialize();
  auto f2 = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(bytes2.data()), bytes2.size());
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2.value()->metadata().size(), f.value()->metadata().size());
  EXPECT_EQ((*f2.value()->get_str_array("x.strs"))[2], "héllo");
}

TEST(GgufReader, OpenErrorsNameTheFile) {
  auto f = GgufFile::open("/nonexistent/dir/x.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("/nonexistent/dir/x.gguf"), std::string::npos);
}

}  // namespace
}  // namespace agora
