#include "engine/model.h"

namespace agora {

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  auto f = GgufFile::open(path);
  if (!f.ok()) return f.status();
  return from_file(std::move(f.value()));
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  auto p = read_model_params(*m->file_);
  if (!p.ok()) return p.status();
  m->params_ = std::move(p.value());
  Status s = bind_weights(*m->file_, m->params_, m->weights_);
  if (!s.ok()) return s;
  repack_weights(m->weights_);
  return m;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const auto& t : file_->tensors()) n += t.n_bytes;
  return n;
}

uint64_t Model::n_params() const {
  uint64_t n = 0;
  for (const auto& t : file_->tensors()) n += static_cast<uint64_t>(t.n_elements());
  return n;
}

}  // namespace agora
