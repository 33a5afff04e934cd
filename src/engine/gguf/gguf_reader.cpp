#include "engine/gguf/gguf_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "engine/gguf/gguf_limits.h"

namespace agora {

std::string_view gguf_error_name(GgufError e) {
  switch (e) {
    case GgufError::none: return "none";
    case GgufError::io: return "io";
    case GgufError::bad_magic: return "bad_magic";
    case GgufError::bad_version: return "bad_version";
    case GgufError::truncated: return "truncated";
    case GgufError::too_many: return "too_many";
    case GgufError::bad_string: return "bad_string";
    case GgufError::bad_value_type: return "bad_value_type";
    case GgufError::nesting_too_deep: return "nesting_too_deep";
    case GgufError::duplicate_key: return "duplicate_key";
    case GgufError::bad_alignment: return "bad_alignment";
    case GgufError::bad_tensor_dims: return "bad_tensor_dims";
    case GgufError::bad_tensor_type: return "bad_tensor_type";
    case GgufError::bad_tensor_shape: return "bad_tensor_shape";
    case GgufError::duplicate_tensor: return "duplicate_tensor";
    case GgufError::bad_tensor_offset: return "bad_tensor_offset";
    case GgufError::tensor_out_of_bounds: return "tensor_out_of_bounds";
  }
  return "unknown";
}

std::string_view gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "u8";
    case GgufValueType::INT8: return "i8";
    case GgufValueType::UINT16: return "u16";
    case GgufValueType::INT16: return "i16";
    case GgufValueType::UINT32: return "u32";
    case GgufValueType::INT32: return "i32";
    case GgufValueType::FLOAT32: return "f32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "str";
    case GgufValueType::ARRAY: return "arr";
    case GgufValueType::UINT64: return "u64";
    case GgufValueType::INT64: return "i64";
    case GgufValueType::FLOAT64: return "f64";
  }
  return "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::UINT16:
    case GgufValueType::INT16: case GgufValueType::UINT32: case GgufValueType::INT32:
    case GgufValueType::UINT64: case GgufValueType::INT64:
      return true;
    default:
      return false;
  }
}

namespace {

void append_escaped(std::string& out, std::string_view s, size_t max_len) {
  out += '"';
  size_t n = 0;
  for (char c : s) {
    if (n++ >= max_len) { out += "..."; break; }
    if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else out += c;
  }
  out += '"';
}

}  // namespace

std::string GgufValue::to_string(size_t max_elems) const {
  std::ostringstream os;
  switch (type) {
    case GgufValueType::STRING: {
      std::string s;
      append_escaped(s, str, 120);
      return s;
    }
    case GgufValueType::BOOL: return u64 ? "true" : "false";
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: os << f64; return os.str();
    case GgufValueType::UINT64: case GgufValueType::UINT32: case GgufValueType::UINT16:
    case GgufValueType::UINT8: os << u64; return os.str();
    case GgufValueType::INT64: case GgufValueType::INT32: case GgufValueType::INT16:
    case GgufValueType::INT8: os << i64; return os.str();
    case GgufValueType::ARRAY: {
      std::string s = "[";
      s += gguf_value_type_name(elem_type);
      s += " x " + std::to_string(n_elems) + "] [";
      size_t shown = std::min<uint64_t>(n_elems, max_elems);
      for (size_t i = 0; i < shown; ++i) {
        if (i) s += ", ";
        if (elem_type == GgufValueType::STRING) append_escaped(s, strs[i], 40);
        else if (elem_type == GgufValueType::ARRAY) s += arrays[i].to_string(max_elems);
        else if (elem_type == GgufValueType::FLOAT32 || elem_type == GgufValueType::FLOAT64) {
          std::ostringstream e; e << floats[i]; s += e.str();
        } else s += std::to_string(ints[i]);
      }
      if (shown < n_elems) s += ", ...";
      return s + "]";
    }
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Parser: a cursor over the bytes with checked reads.

class GgufParser {
 public:
  GgufParser(const uint8_t* data, uint64_t size, std::string name)
      : p_(data), size_(size), name_(std::move(name)) {}

  GgufError error() const { return err_; }
  const std::string& message() const { return msg_; }

  bool parse(GgufFile& f);

 private:
  bool fail(GgufError e, const std::string& field, const std::string& problem) {
    if (err_ == GgufError::none) {
      err_ = e;
      msg_ = name_ + ": " + field + ": " + problem + " [" + std::string(gguf_error_name(e)) + "]";
    }
    return false;
  }
  uint64_t remaining() const { return size_ - pos_; }
  template <typename T>
  bool read(T& out, const std::string& field) {
    if (remaining() < sizeof(T)) return fail(GgufError::truncated, field, "file ends inside the field");
    std::memcpy(&out, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool read_string(std::string_view& out, const std::string& field) {
    uint64_t len = 0;
    if (!read(len, field + " (string length)")) return false;
    if (len > limits::kGgufMaxString)
      return fail(GgufError::bad_string, field, "string of " + std::to_string(len) + " bytes exceeds the cap");
    if (len > remaining()) return fail(GgufError::truncated, field, "string runs past the end of the file");
    out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }
  bool read_value(GgufValue& v, GgufValueType type, const std::string& field, int depth);
  bool read_array(GgufValue& v, const std::string& field, int depth);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string name_;
  GgufError err_ = GgufError::none;
  std::string msg_;
};

static size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    default: return 0;
  }
}

static bool valid_value_type(uint32_t t) { return t <= 12; }

bool GgufParser::read_value(GgufValue& v, GgufValueType type, const std::string& field, int depth) {
  v.type = type;
  switch (type) {
    case GgufValueType::UINT8: { uint8_t x = 0; if (!read(x, field)) return false; v.u64 = x; v.i64 = x; return true; }
    case GgufValueType::INT8: { int8_t x = 0; if (!read(x, field)) return false; v.i64 = x; v.u64 = static_cast<uint64_t>(x); return true; }
    case GgufValueType::UINT16: { uint16_t x = 0; if (!read(x, field)) return false; v.u64 = x; v.i64 = x; return true; }
    case GgufValueType::INT16: { int16_t x = 0; if (!read(x, field)) return false; v.i64 = x; v.u64 = static_cast<uint64_t>(x); return true; }
    case GgufValueType::UINT32: { uint32_t x = 0; if (!read(x, field)) return false; v.u64 = x; v.i64 = x; return true; }
    case GgufValueType::INT32: { int32_t x = 0; if (!read(x, field)) return false; v.i64 = x; v.u64 = static_cast<uint64_t>(x); return true; }
    case GgufValueType::UINT64: { uint64_t x = 0; if (!read(x, field)) return false; v.u64 = x; v.i64 = static_cast<int64_t>(x); return true; }
    case GgufValueType::INT64: { int64_t x = 0; if (!read(x, field)) return false; v.i64 = x; v.u64 = static_cast<uint64_t>(x); return true; }
    case GgufValueType::FLOAT32: { float x = 0; if (!read(x, field)) return false; v.f64 = x; return true; }
    case GgufValueType::FLOAT64: { double x = 0; if (!read(x, field)) return false; v.f64 = x; return true; }
    case GgufValueType::BOOL: {
      uint8_t x = 0; if (!read(x, field)) return false;
      if (x > 1) return fail(GgufError::bad_value_type, field, "bool value " + std::to_string(x) + " is not 0 or 1");
      v.u64 = x; v.i64 = x; return true;
    }
    case GgufValueType::STRING: return read_string(v.str, field);
    case GgufValueType::ARRAY: return read_array(v, field, depth + 1);
  }
  return fail(GgufError::bad_value_type, field, "unknown value type");
}

bool GgufParser::read_array(GgufValue& v, const std::string& field, int depth) {
  if (depth > limits::kGgufMaxArrayDepth)
    return fail(GgufError::nesting_too_deep, field, "arrays nested deeper than " + std::to_string(limits::kGgufMaxArrayDepth));
  uint32_t et = 0;
  if (!read(et, field + " (array element type)")) return false;
  if (!valid_value_type(et)) return fail(GgufError::bad_value_type, field, "unknown array element type " + std::to_string(et));
  uint64_t n = 0;
  if (!read(n, field + " (array length)")) return false;
  if (n > limits::kGgufMaxArray) return fail(GgufError::too_many, field, "array of " + std::to_string(n) + " elements exceeds the cap");
  v.elem_type = static_cast<GgufValueType>(et);
  v.n_elems = n;
  const size_t es = scalar_size(v.elem_type);
  if (es) {
    // Fixed-size elements: check the whole array fits before reading any of it.
    if (n > remaining() / es) return fail(GgufError::truncated, field, "array runs past the end of the file");
    if (v.elem_type == GgufValueType::FLOAT32 || v.elem_type == GgufValueType::FLOAT64) v.floats.resize(n);
    else v.ints.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      GgufValue e;
      if (!read_value(e, v.elem_type, field, depth)) return false;
      if (e.is_float()) v.floats[i] = e.f64;
      else v.ints[i] = e.i64;
    }
    return true;
  }
  if (v.elem_type == GgufValueType::STRING) {
    // Each string needs at least its 8-byte length.
    if (n > remaining() / 8) return fail(GgufError::truncated, field, "array runs past the end of the file");
    v.strs.resize(n);
    for (uint64_t i = 0; i < n; ++i)
      if (!read_string(v.strs[i], field + "[" + std::to_string(i) + "]")) return false;
    return true;
  }
  // Nested arrays: each needs at least 12 bytes of header.
  if (n > remaining() / 12) return fail(GgufError::truncated, field, "array runs past the end of the file");
  v.arrays.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    v.arrays[i].type = GgufValueType::ARRAY;
    if (!read_array(v.arrays[i], field + "[" + std::to_string(i) + "]", depth + 1)) return false;
  }
  return true;
}

bool GgufParser::parse(GgufFile& f) {
  uint32_t magic = 0;
  if (!read(magic, "magic")) return false;
  if (std::memcmp(&magic, "GGUF", 4) != 0) return fail(GgufError::bad_magic, "magic", "not a GGUF file");
  if (!read(f.version_, "version")) return false;
  if (f.version_ != 2 && f.version_ != 3)
    return fail(GgufError::bad_version, "version", "version " + std::to_string(f.version_) + " is not supported (2 or 3)");
  uint64_t n_tensors = 0, n_kv = 0;
  if (!read(n_tensors, "tensor_count") || !read(n_kv, "metadata_kv_count")) return false;
  if (n_tensors > limits::kGgufMaxTensors)
    return fail(GgufError::too_many, "tensor_count", std::to_string(n_tensors) + " exceeds the cap");
  if (n_kv > limits::kGgufMaxKv) return fail(GgufError::too_many, "metadata_kv_count", std::to_string(n_kv) + " exceeds the cap");

  f.kv_.reserve(std::min<uint64_t>(n_kv, remaining() / 16 + 1));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    if (!read_string(key, "metadata key #" + std::to_string(i))) return false;
    std::string k(key);
    uint32_t t = 0;
    if (!read(t, k + " (value type)")) return false;
    if (!valid_value_type(t)) return fail(GgufError::bad_value_type, k, "unknown value type " + std::to_string(t));
    GgufValue v;
    if (!read_value(v, static_cast<GgufValueType>(t), k, 0)) return false;
    if (f.kv_index_.count(k)) return fail(GgufError::duplicate_key, k, "key appears twice");
    f.kv_index_.emplace(k, f.kv_.size());
    f.kv_.emplace_back(std::move(k), std::move(v));
  }

  if (const GgufValue* a = f.find("general.alignment")) {
    if (!a->is_integer() || a->u64 == 0 || (a->u64 & (a->u64 - 1)) != 0 || a->u64 > limits::kGgufMaxAlignment)
      return fail(GgufError::bad_alignment, "general.alignment", "must be a power of two integer up to " +
                                                                    std::to_string(limits::kGgufMaxAlignment));
    f.alignment_ = a->u64;
  }

  f.tensors_.reserve(std::min<uint64_t>(n_tensors, remaining() / 24 + 1));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo ti;
    std::string_view name;
    if (!read_string(name, "tensor #" + std::to_string(i) + " name")) return false;
    ti.name = std::string(name);
    const std::string field = "tensor '" + ti.name + "'";
    uint32_t n_dims = 0;
    if (!read(n_dims, field + " n_dims")) return false;
    if (n_dims < 1 || n_dims > 4) return fail(GgufError::bad_tensor_dims, field, "n_dims " + std::to_string(n_dims) + " not in 1..4");
    ti.n_dims = static_cast<int>(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      if (!read(ne, field + " ne[" + std::to_string(d) + "]")) return false;
      if (ne == 0 || ne > (uint64_t(1) << 40))
        return fail(GgufError::bad_tensor_dims, field, "dimension " + std::to_string(d) + " = " + std::to_string(ne) + " is out of range");
      ti.ne[d] = static_cast<int64_t>(ne);
    }
    // Overflow-checked element count.
    uint64_t n_el = 1;
    for (int d = 0; d < 4; ++d) {
      if (__builtin_mul_overflow(n_el, static_cast<uint64_t>(ti.ne[d]), &n_el) || n_el > (uint64_t(1) << 50))
        return fail(GgufError::bad_tensor_dims, field, "element count overflows");
    }
    uint32_t type = 0;
    if (!read(type, field + " type")) return false;
    auto info = type_info(type);
    if (!info) return fail(GgufError::bad_tensor_type, field, "unknown tensor type " + std::to_string(type));
    ti.type = static_cast<GgmlType>(type);
    if (ti.ne[0] % info->block_size != 0)
      return fail(GgufError::bad_tensor_shape, field,
                  "row length " + std::to_string(ti.ne[0]) + " is not a multiple of the " +
                      std::string(info->name) + " block size " + std::to_string(info->block_size));
    ti.n_bytes = n_el / info->block_size * info->type_size;
    if (!read(ti.offset, field + " offset")) return false;
    if (ti.offset % f.alignment_ != 0)
      return fail(GgufError::bad_tensor_offset, field, "offset " + std::to_string(ti.offset) + " is not aligned to " + std::to_string(f.alignment_));
    if (f.tensor_index_.count(ti.name)) return fail(GgufError::duplicate_tensor, field, "tensor name appears twice");
    f.tensor_index_.emplace(ti.name, f.tensors_.size());
    f.tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next aligned offset.
  uint64_t data = pos_;
  if (data % f.alignment_) data += f.alignment_ - data % f.alignment_;
  if (data > size_ && !f.tensors_.empty())
    return fail(GgufError::truncated, "tensor data", "file ends before the data section");
  f.data_offset_ = data;
  // Every tensor inside the file; no two overlap.
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  spans.reserve(f.tensors_.size());
  for (auto& ti : f.tensors_) {
    uint64_t end = 0;
    if (__builtin_add_overflow(data, ti.offset, &end) || __builtin_add_overflow(end, ti.n_bytes, &end) || end > size_)
      return fail(GgufError::tensor_out_of_bounds, "tensor '" + ti.name + "'",
                  "data [" + std::to_string(ti.offset) + ", +" + std::to_string(ti.n_bytes) + ") runs past the end of the file");
    ti.data = p_ + data + ti.offset;
    spans.emplace_back(ti.offset, ti.offset + ti.n_bytes);
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      return fail(GgufError::tensor_out_of_bounds, "tensor data", "two tensors overlap at offset " + std::to_string(spans[i].first));
  return true;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<GgufFile>> GgufFile::from_memory(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = name;
  f->base_ = data;
  f->size_ = size;
  GgufParser parser(data, size, std::move(name));
  if (!parser.parse(*f)) return Status(ErrorCode::invalid_file, parser.message());
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::io_error, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(ErrorCode::io_error, path + ": not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return Status(ErrorCode::invalid_file, path + ": magic: file is empty [truncated]");
  }
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return Status(ErrorCode::io_error, path + ": cannot map: " + std::strerror(errno));
  auto r = from_memory(static_cast<const uint8_t*>(m), size, path);
  if (!r.ok()) {
    ::munmap(m, size);
    return r.status();
  }
  r.value()->mapped_ = true;
  return r;
}

GgufFile::~GgufFile() {
  if (mapped_ && base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::optional<uint64_t> GgufFile::get_u64(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || !v->is_integer()) return std::nullopt;
  if (v->type == GgufValueType::INT8 || v->type == GgufValueType::INT16 || v->type == GgufValueType::INT32 ||
      v->type == GgufValueType::INT64) {
    if (v->i64 < 0) return std::nullopt;
    return static_cast<uint64_t>(v->i64);
  }
  return v->u64;
}

std::optional<uint32_t> GgufFile::get_u32(std::string_view key) const {
  auto v = get_u64(key);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<int64_t> GgufFile::get_i64(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || !v->is_integer()) return std::nullopt;
  if (v->type == GgufValueType::UINT64 && v->u64 > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return v->i64;
}

std::optional<double> GgufFile::get_f64(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f64;
  if (v->is_integer()) return static_cast<double>(v->i64);
  return std::nullopt;
}

std::optional<float> GgufFile::get_f32(std::string_view key) const {
  auto v = get_f64(key);
  if (!v) return std::nullopt;
  return static_cast<float>(*v);
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufValueType::BOOL) return std::nullopt;
  return v->u64 != 0;
}

std::optional<std::string_view> GgufFile::get_str(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufValueType::STRING) return std::nullopt;
  return v->str;
}

const std::vector<std::string_view>* GgufFile::get_str_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufValueType::ARRAY || v->elem_type != GgufValueType::STRING) return nullptr;
  return &v->strs;
}

const std::vector<int64_t>* GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufValueType::ARRAY || v->floats.size() || v->strs.size() || v->arrays.size()) return nullptr;
  if (v->elem_type == GgufValueType::STRING || v->elem_type == GgufValueType::ARRAY || v->elem_type == GgufValueType::FLOAT32 ||
      v->elem_type == GgufValueType::FLOAT64)
    return nullptr;
  return &v->ints;
}

const std::vector<double>* GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufValueType::ARRAY) return nullptr;
  if (v->elem_type != GgufValueType::FLOAT32 && v->elem_type != GgufValueType::FLOAT64) return nullptr;
  return &v->floats;
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

GgufError gguf_classify(const uint8_t* data, size_t size) {
  GgufFile f;
  GgufParser parser(data, size, "<memory>");
  parser.parse(f);
  return parser.error();
}

}  // namespace agora
