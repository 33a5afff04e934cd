// A loaded model: the mapped GGUF file, its hyperparameters and its weights.
//
// Usage:
//   auto model = Model::load("model.gguf");           // immutable, shareable across threads
//   auto ctx = Context::create(*model.value(), {});   // per-engine mutable state (see context.h)
//
// Thread safety: a Model is read-only after load() and may be used by many Contexts at once.
#pragma once

#include <memory>
#include <string>

#include "engine/arch/weights.h"
#include "engine/gguf/gguf_reader.h"
#include "engine/model_params.h"
#include "engine/util/status.h"

namespace agora {

class Model {
 public:
  // Maps the file, reads the hyperparameters and binds every weight (shapes checked).
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  // Wraps an already opened file (takes ownership).
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<GgufFile> file);

  const GgufFile& file() const { return *file_; }
  const ModelParams& params() const { return params_; }
  const ModelWeights& weights() const { return weights_; }
  // Bytes of weight data (sum of tensor sizes).
  uint64_t weight_bytes() const;
  // Number of parameters (sum of tensor element counts).
  uint64_t n_params() const;

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  ModelParams params_;
  ModelWeights weights_;
};

}  // namespace agora
