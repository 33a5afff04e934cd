// GGUF reader: a validated, memory-mapped view of a GGUF v2/v3 file.
//
// Usage:
//   auto file = GgufFile::open("model.gguf");
//   if (!file) { report(file.status().message()); }
//   uint32_t n_ctx = file->get_u32("llama.context_length").value_or(2048);
//   const GgufTensorInfo* t = file->tensor("token_embd.weight");
//
// Every count, length, offset and dimension is checked against the bytes that remain and
// against overflow before it is used; a malformed file yields a GgufError naming the file, the
// field and the problem. The object is immutable after open() and safe to share between
// threads; tensor data pointers stay valid for its lifetime.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/tensor/ggml_type.h"
#include "engine/util/status.h"

namespace agora {

// The handcrafted bad-file taxonomy: each class of malformed file has its own code.
enum class GgufError {
  none = 0,
  io,                  // cannot open / stat / map the file
  bad_magic,           // not a GGUF file
  bad_version,         // version other than 2 or 3
  truncated,           // a field runs past the end of the file
  too_many,            // n_kv / n_tensors / array length above the named caps
  bad_string,          // string longer than the cap or the file
  bad_value_type,      // unknown metadata value type
  nesting_too_deep,    // arrays nested beyond the cap
  duplicate_key,       // the same metadata key twice
  bad_alignment,       // general.alignment not a power of two / wrong type
  bad_tensor_dims,     // n_dims > 4, a zero or overflowing dimension
  bad_tensor_type,     // unknown ggml type
  bad_tensor_shape,    // first dimension not a multiple of the type's block size
  duplicate_tensor,    // the same tensor name twice
  bad_tensor_offset,   // offset not aligned
  tensor_out_of_bounds,  // tensor data past the end of the file, or overlapping
};
std::string_view gguf_error_name(GgufError e);

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);

// One metadata value. Scalars are widened (integers to i64/u64, floats to double); arrays keep
// their element type and hold typed element storage (strings as views into the mapping).
struct GgufValue {
  GgufValueType type = GgufValueType::UINT8;
  // scalars
  uint64_t u64 = 0;  // UINT*, BOOL
  int64_t i64 = 0;   // INT* (and UINT* that fit)
  double f64 = 0;    // FLOAT*
  std::string_view str;
  // arrays
  GgufValueType elem_type = GgufValueType::UINT8;
  uint64_t n_elems = 0;
  std::vector<std::string_view> strs;  // STRING arrays
  std::vector<int64_t> ints;           // integer and BOOL arrays (as signed 64-bit)
  std::vector<double> floats;          // FLOAT32/FLOAT64 arrays
  std::vector<GgufValue> arrays;       // nested arrays

  bool is_integer() const;
  bool is_float() const { return type == GgufValueType::FLOAT32 || type == GgufValueType::FLOAT64; }
  // Human-readable rendering (arrays shortened after `max_elems`), used by `agora inspect`.
  std::string to_string(size_t max_elems = 8) const;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the row length (fastest-moving dimension)
  uint64_t offset = 0;           // relative to the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // inside the mapping

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses a GGUF image already in memory (not copied: `data` must outlive the object).
  static Result<std::unique_ptr<GgufFile>> from_memory(const uint8_t* data, size_t size,
                                                       std::string name = "<memory>");
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed accessors: nullopt when the key is absent or has an incompatible type.
  std::optional<uint64_t> get_u64(std::string_view key) const;
  std::optional<uint32_t> get_u32(std::string_view key) const;  // also nullopt if > UINT32_MAX
  std::optional<int64_t> get_i64(std::string_view key) const;
  std::optional<double> get_f64(std::string_view key) const;
  std::optional<float> get_f32(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string_view> get_str(std::string_view key) const;
  const std::vector<std::string_view>* get_str_array(std::string_view key) const;
  const std::vector<int64_t>* get_int_array(std::string_view key) const;
  const std::vector<double>* get_float_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  friend class GgufParser;
  friend GgufError gguf_classify(const uint8_t*, size_t);

  std::string path_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Parses and returns the error class of the first problem (GgufError::none when valid).
// Used by the bad-file taxonomy tests and the fuzzer.
GgufError gguf_classify(const uint8_t* data, size_t size);

}  // namespace agora
