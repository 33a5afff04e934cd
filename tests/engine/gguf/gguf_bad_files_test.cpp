// ctest-labels: unit
// The handcrafted bad-file taxonomy (RELIABILITY.md test 15): each class of malformed GGUF is
// built from a small valid file by one precise mutation and must be rejected with its own
// error class and a message naming the field — never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "engine/gguf/gguf_reader.h"
#include "engine/gguf/gguf_writer.h"

namespace agora {
namespace {

// A valid file: 2 metadata keys and two tensors, with known byte offsets.
std::string valid_file() {
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_u32("x.n", 1);
  std::vector<float> a(64, 1.0f), b(32, 2.0f);
  EXPECT_TRUE(w.add_tensor("a", GgmlType::F32, {32, 2}, a.data(), 256).ok());
  EXPECT_TRUE(w.add_tensor("b", GgmlType::F32, {32}, b.data(), 128).ok());
  return w.serialize();
}

template <typename T>
void put(std::string& s, size_t off, T v) {
  std::memcpy(&s[off], &v, sizeof v);
}

// Byte offsets inside valid_file().
constexpr size_t kOffNTensors = 8, kOffNKv = 16, kOffKey0Len = 24;
size_t off_tensor_a(const std::string& s) { return s.find(std::string("\x01\0\0\0\0\0\0\0a", 9), 24); }

struct Case {
  const char* name;
  GgufError expect;
  std::function<std::string()> make;
};

std::string with(std::function<void(std::string&)> f) {
  std::string s = valid_file();
  f(s);
  return s;
}

TEST(GgufBadFiles, EachClassHasItsOwnError) {
  const std::vector<Case> cases = {
      {"empty", GgufError::truncated, [] { return std::string(); }},
      {"bad magic", GgufError::bad_magic, [] { return with([](std::string& s) { s[0] = 'X'; }); }},
      {"version 1", GgufError::bad_version, [] { return with([](std::string& s) { put<uint32_t>(s, 4, 1); }); }},
      {"version 99", GgufError::bad_version, [] { return with([](std::string& s) { put<uint32_t>(s, 4, 99); }); }},
      {"truncated header", GgufError::truncated, [] { return valid_file().substr(0, 12); }},
      {"truncated metadata", GgufError::truncated, [] { return valid_file().substr(0, 40); }},
      {"huge kv count", GgufError::too_many, [] { return with([](std::string& s) { put<uint64_t>(s, kOffNKv, 1ull << 40); }); }},
      {"huge tensor count", GgufError::too_many, [] { return with([](std::string& s) { put<uint64_t>(s, kOffNTensors, 1ull << 40); }); }},
      {"string length past end", GgufError::truncated,
       [] { return with([](std::string& s) { put<uint64_t>(s, kOffKey0Len, 1ull << 20); }); }},
      {"string length over cap", GgufError::bad_string,
       [] { return with([](std::string& s) { put<uint64_t>(s, kOffKey0Len, 1ull << 62); }); }},
      {"unknown value type", GgufError::bad_value_type,
       [] { return with([](std::string& s) { put<uint32_t>(s, kOffKey0Len + 8 + 20, 77); }); }},
      {"duplicate key", GgufError::duplicate_key,
       [] {
         GgufWriter w;
         w.set_u32("k", 1);
         w.set_u32("k", 2);
         return w.serialize();
       }},
      {"nested arrays too deep", GgufError::nesting_too_deep,
       [] {
         GgufWriter w;
         GgufValue v;
         v.type = GgufValueType::ARRAY;
         v.elem_type = GgufValueType::UINT8;
         for (int d = 0; d < 12; ++d) {
           GgufValue outer;
           outer.type = GgufValueType::ARRAY;
           outer.elem_type = GgufValueType::ARRAY;
           outer.n_elems = 1;
           outer.arrays.push_back(v);
           v = outer;
         }
         w.set_value("deep", v);
         return w.serialize();
       }},
      {"array past end", GgufError::truncated,
       [] {
         GgufWriter w;
         w.set_i32_array("arr", {1, 2, 3});
         std::string s = w.serialize();
         put<uint64_t>(s, 24 + 8 + 3 + 4 + 4, 1ull << 27);  // element count of "arr"
         return s;
       }},
      {"bad alignment", GgufError::bad_alignment,
       [] {
         GgufWriter w;
         w.set_u32("general.alignment", 3);
         return w.serialize();
       }},
      {"zero dims", GgufError::bad_tensor_dims, [] { return with([](std::string& s) { put<uint32_t>(s, off_tensor_a(s) + 9, 0); }); }},
      {"five dims", GgufError::bad_tensor_dims, [] { return with([](std::string& s) { put<uint32_t>(s, off_tensor_a(s) + 9, 5); }); }},
      {"zero dimension", GgufError::bad_tensor_dims, [] { return with([](std::string& s) { put<uint64_t>(s, off_tensor_a(s) + 13, 0); }); }},
      {"overflowing dimensions", GgufError::bad_tensor_dims,
       [] {
         return with([](std::string& s) {
           put<uint64_t>(s, off_tensor_a(s) + 13, 1ull << 39);
           put<uint64_t>(s, off_tensor_a(s) + 21, 1ull << 39);
         });
       }},
      {"unknown tensor type", GgufError::bad_tensor_type,
       [] { return with([](std::string& s) { put<uint32_t>(s, off_tensor_a(s) + 29, 1234); }); }},
      {"row not a block multiple", GgufError::bad_tensor_shape,
       [] { return with([](std::string& s) { put<uint32_t>(s, off_tensor_a(s) + 29, 8 /* Q8_0, 32 | 32 ok */), put<uint64_t>(s, off_tensor_a(s) + 13, 33); }); }},
      {"misaligned offset", GgufError::bad_tensor_offset,
       [] { return with([](std::string& s) { put<uint64_t>(s, off_tensor_a(s) + 33, 4); }); }},
      {"duplicate tensor", GgufError::duplicate_tensor,
       [] { return with([](std::string& s) { s[off_tensor_a(s) + 49] = 'a'; }); }},
      {"tensor past end", GgufError::tensor_out_of_bounds,
       [] { return with([](std::string& s) { put<uint64_t>(s, off_tensor_a(s) + 33, 1ull << 40); }); }},
      {"overlapping tensors", GgufError::tensor_out_of_bounds,
       [] { return with([](std::string& s) { put<uint64_t>(s, off_tensor_a(s) + 66, 0); }); }},
      {"file cut inside tensor data", GgufError::tensor_out_of_bounds, [] { std::string s = valid_file(); return s.substr(0, s.size() - 8); }},
  };
  ASSERT_EQ(gguf_classify(reinterpret_cast<const uint8_t*>(valid_file().data()), valid_file().size()), GgufError::none);
  for (const Case& c : cases) {
    const std::string bytes = c.make();
    EXPECT_EQ(gguf_error_name(gguf_classify(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())),
              gguf_error_name(c.expect))
        << c.name;
    auto f = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.gguf");
    ASSERT_FALSE(f.ok()) << c.name;
    EXPECT_NE(f.status().message().find("bad.gguf"), std::string::npos) << f.status().message();
    EXPECT_NE(f.status().message().find(std::string(gguf_error_name(c.expect))), std::string::npos) << f.status().message();
  }
}

}  // namespace
}  // namespace agora
