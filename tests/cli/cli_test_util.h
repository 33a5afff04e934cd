// Running the agora binary from tests: exit code and captured output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/testdata.h"

namespace agora::test {

struct CliResult {
  int code = -1;
  std::string out, err;
};

// The agora binary of this build tree (fails the test when it has not been built).
inline std::string agora_binary() {
  const std::string path = binary_dir() + "/agora";
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing: build the agora target before the CLI tests";
  return path;
}

// A fresh scratch folder for one test.
inline std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("agora-cli-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `agora ARGS...` with stdout and stderr captured.
inline CliResult run_agora(const std::vector<std::string>& args) {
  static int n = 0;
  const std::string base = std::filesystem::temp_directory_path().string() + "/agora-cli-" + std::to_string(::getpid()) +
                           "-" + std::to_string(n++);
  std::string cmd = shell_quote(agora_binary());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + base + ".out 2>" + base + ".err";
  const int st = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

}  // namespace agora::test
