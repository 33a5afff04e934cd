// GGUF writer: builds a GGUF v3 file from metadata and tensors (used by quantize and synth).
//
// Metadata and tensors are written in the order they were added. Tensor data is copied at
// add time. write() writes to PATH.tmp, fsyncs, and renames, so a crash never leaves a
// half-written file under the final name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf/gguf_reader.h"
#include "engine/tensor/ggml_type.h"
#include "engine/util/status.h"

namespace agora {

class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  void set_u8(std::string key, uint8_t v);
  void set_i8(std::string key, int8_t v);
  void set_u16(std::string key, uint16_t v);
  void set_i16(std::string key, int16_t v);
  void set_u32(std::string key, uint32_t v);
  void set_i32(std::string key, int32_t v);
  void set_u64(std::string key, uint64_t v);
  void set_i64(std::string key, int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_str(std::string key, std::string_view v);
  void set_str_array(std::string key, const std::vector<std::string>& v);
  void set_i32_array(std::string key, const std::vector<int32_t>& v);
  void set_f32_array(std::string key, const std::vector<float>& v);
  // Copies any value read from another file (arrays included, nested ones too).
  void set_value(std::string key, const GgufValue& v);

  // ne[0] is the row length. `data` must hold exactly row_size(type, ne0) * rows bytes.
  Status add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data, size_t n_bytes);

  std::string serialize() const;  // the whole file in memory
  Status write(const std::string& path) const;

 private:
  void key(std::string_view k, uint32_t type);
  template <typename T> void raw(T v) {
    const char* p = reinterpret_cast<const char*>(&v);
    kv_.append(p, sizeof(T));
  }
  void raw_str(std::string& out, std::string_view s) const;
  void value_body(const GgufValue& v);

  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::string data;
  };
  uint64_t alignment_;
  uint64_t n_kv_ = 0;
  std::string kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace agora
