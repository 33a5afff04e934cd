#include "support/testdata.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace agora::test {

std::string testdata_dir() {
  const char* env = std::getenv("AGORA_TESTDATA");
  std::string dir = (env && *env) ? env : AGORA_TESTDATA_DEFAULT;
  std::error_code ec;
  auto canon = std::filesystem::weakly_canonical(dir, ec);
  if (!ec) dir = canon.string();
  if (!std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << "test data folder not found: " << dir
                  << " (set AGORA_TESTDATA to the shared/testdata folder)";
  }
  return dir;
}

std::string testdata_path(const std::string& rel) {
  std::string p = testdata_dir() + "/" + rel;
  if (!std::filesystem::exists(p)) ADD_FAILURE() << "test data file not found: " << p;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string source_dir() { return AGORA_SOURCE_DIR; }
std::string binary_dir() { return AGORA_BINARY_DIR; }

}  // namespace agora::test
