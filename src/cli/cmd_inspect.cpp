// `agora inspect MODEL.gguf`: the file's metadata and tensor table, like gguf-dump.
#include <cinttypes>
#include <cstdio>

#include "cli/commands.h"
#include "engine/gguf/gguf_reader.h"

namespace agora::cli {

void register_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Print a GGUF file's metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto full = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "GGUF file")->required();
  cmd->add_flag("--full", *full, "Print whole arrays instead of their first elements");
  cmd->callback([path, full] {
    auto f = GgufFile::open(*path);
    if (!f.ok()) {
      fail(2, f.status().message());
      return;
    }
    const GgufFile& g = *f.value();
    std::printf("file: %s\nversion: %u\nalignment: %" PRIu64 "\nsize: %" PRIu64 " bytes\n", g.path().c_str(), g.version(),
                g.alignment(), g.file_size());
    std::printf("\nmetadata (%zu):\n", g.metadata().size());
    size_t i = 0;
    for (const auto& [k, v] : g.metadata()) {
      std::string type(gguf_value_type_name(v.type));
      std::printf("%5zu: %-4s %-48s = %s\n", i++, type.c_str(), k.c_str(), v.to_string(*full ? SIZE_MAX : 8).c_str());
    }
    std::printf("\ntensors (%zu):\n", g.tensors().size());
    uint64_t total = 0;
    i = 0;
    for (const auto& t : g.tensors()) {
      std::string shape;
      for (int d = 0; d < t.n_dims; ++d) shape += (d ? " x " : "") + std::to_string(t.ne[d]);
      std::printf("%5zu: %-40s %-7s [%s] %" PRIu64 " bytes\n", i++, t.name.c_str(), std::string(type_name(t.type)).c_str(),
                  shape.c_str(), t.n_bytes);
      total += t.n_bytes;
    }
    std::printf("\ntotal tensor bytes: %" PRIu64 "\n", total);
  });
}

}  // namespace agora::cli
