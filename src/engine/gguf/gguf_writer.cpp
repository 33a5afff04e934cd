#include "engine/gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace agora {

void GgufWriter::raw_str(std::string& out, std::string_view s) const {
  uint64_t n = s.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out.append(s.data(), s.size());
}

void GgufWriter::key(std::string_view k, uint32_t type) {
  raw_str(kv_, k);
  raw(type);
  ++n_kv_;
}

void GgufWriter::set_u8(std::string k, uint8_t v) { key(k, 0); raw(v); }
void GgufWriter::set_i8(std::string k, int8_t v) { key(k, 1); raw(v); }
void GgufWriter::set_u16(std::string k, uint16_t v) { key(k, 2); raw(v); }
void GgufWriter::set_i16(std::string k, int16_t v) { key(k, 3); raw(v); }
void GgufWriter::set_u32(std::string k, uint32_t v) { key(k, 4); raw(v); }
void GgufWriter::set_i32(std::string k, int32_t v) { key(k, 5); raw(v); }
void GgufWriter::set_f32(std::string k, float v) { key(k, 6); raw(v); }
void GgufWriter::set_bool(std::string k, bool v) { key(k, 7); raw(static_cast<uint8_t>(v)); }
void GgufWriter::set_str(std::string k, std::string_view v) { key(k, 8); raw_str(kv_, v); }
void GgufWriter::set_u64(std::string k, uint64_t v) { key(k, 10); raw(v); }
void GgufWriter::set_i64(std::string k, int64_t v) { key(k, 11); raw(v); }
void GgufWriter::set_f64(std::string k, double v) { key(k, 12); raw(v); }

void GgufWriter::set_str_array(std::string k, const std::vector<std::string>& v) {
  key(k, 9);
  raw(uint32_t(8));
  raw(uint64_t(v.size()));
  for (const auto& s : v) raw_str(kv_, s);
}
void GgufWriter::set_i32_array(std::string k, const std::vector<int32_t>& v) {
  key(k, 9);
  raw(uint32_t(5));
  raw(uint64_t(v.size()));
  for (int32_t x : v) raw(x);
}
void GgufWriter::set_f32_array(std::string k, const std::vector<float>& v) {
  key(k, 9);
  raw(uint32_t(6));
  raw(uint64_t(v.size()));
  for (float x : v) raw(x);
}

void GgufWriter::value_body(const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::UINT8: raw(static_cast<uint8_t>(v.u64)); break;
    case GgufValueType::INT8: raw(static_cast<int8_t>(v.i64)); break;
    case GgufValueType::UINT16: raw(static_cast<uint16_t>(v.u64)); break;
    case GgufValueType::INT16: raw(static_cast<int16_t>(v.i64)); break;
    case GgufValueType::UINT32: raw(static_cast<uint32_t>(v.u64)); break;
    case GgufValueType::INT32: raw(static_cast<int32_t>(v.i64)); break;
    case GgufValueType::UINT64: raw(static_cast<uint64_t>(v.u64)); break;
    case GgufValueType::INT64: raw(static_cast<int64_t>(v.i64)); break;
    case GgufValueType::FLOAT32: raw(static_cast<float>(v.f64)); break;
    case GgufValueType::FLOAT64: raw(static_cast<double>(v.f64)); break;
    case GgufValueType::BOOL: raw(static_cast<uint8_t>(v.u64 != 0)); break;
    case GgufValueType::STRING: raw_str(kv_, v.str); break;
    case GgufValueType::ARRAY: {
      raw(static_cast<uint32_t>(v.elem_type));
      raw(static_cast<uint64_t>(v.n_elems));
      for (uint64_t i = 0; i < v.n_elems; ++i) {
        GgufValue e;
        e.type = v.elem_type;
        if (v.elem_type == GgufValueType::STRING) e.str = v.strs[i];
        else if (v.elem_type == GgufValueType::ARRAY) { value_body(v.arrays[i]); continue; }
        else if (v.elem_type == GgufValueType::FLOAT32 || v.elem_type == GgufValueType::FLOAT64) e.f64 = v.floats[i];
        else { e.i64 = v.ints[i]; e.u64 = static_cast<uint64_t>(v.ints[i]); }
        value_body(e);
      }
      break;
    }
  }
}

void GgufWriter::set_value(std::string k, const GgufValue& v) {
  key(k, static_cast<uint32_t>(v.type));
  value_body(v);
}

Status GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, const void* data,
                              size_t n_bytes) {
  if (ne.empty() || ne.size() > 4) return Status(ErrorCode::invalid_argument, name + ": 1 to 4 dimensions");
  const TypeInfo& ti = type_info(type);
  if (ne[0] % ti.block_size != 0)
    return Status(ErrorCode::invalid_argument, name + ": row length not a multiple of the block size");
  size_t expect = row_size(type, ne[0]);
  for (size_t i = 1; i < ne.size(); ++i) expect *= static_cast<size_t>(ne[i]);
  if (expect != n_bytes) return Status(ErrorCode::invalid_argument, name + ": data size does not match the shape");
  tensors_.push_back({std::move(name), type, std::move(ne), std::string(static_cast<const char*>(data), n_bytes)});
  return {};
}

std::string GgufWriter::serialize() const {
  std::string out;
  out.append("GGUF", 4);
  auto put = [&out](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint32_t(3));
  put(uint64_t(tensors_.size()));
  put(uint64_t(n_kv_));
  out += kv_;
  uint64_t offset = 0;
  auto align = [this](uint64_t x) { return (x + alignment_ - 1) / alignment_ * alignment_; };
  for (const auto& t : tensors_) {
    raw_str(out, t.name);
    put(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) put(uint64_t(d));
    put(static_cast<uint32_t>(t.type));
    put(offset);
    offset = align(offset + t.data.size());
  }
  out.resize(align(out.size()), '\0');
  for (const auto& t : tensors_) {
    out += t.data;
    out.resize(align(out.size()), '\0');
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  const std::string bytes = serialize();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(ErrorCode::io_error, tmp + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status(ErrorCode::io_error, tmp + ": write failed: " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status(ErrorCode::io_error, tmp + ": fsync failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status(ErrorCode::io_error, path + ": rename failed: " + std::strerror(errno));
  }
  return {};
}

}  // namespace agora
