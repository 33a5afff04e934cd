// ctest-labels: unit model
// `agora serve --config agora.toml` (src/cli/cmd_serve.cpp): every flag settable in the file,
// command-line flags override it, strict errors naming the file and line.
#include <fstream>
#include <nlohmann/json.hpp>

#include "platform/serve_process.h"
#include "platform/test_http.h"

using namespace agora::test;

namespace {

std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = scratch_dir("serve-config") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Built without toml++ (libtomlplusplus-dev), `--config` is an error that says so; the
// tests below need the library.
#if __has_include(<toml++/toml.h>)
#define NEED_TOML()
#else
#define NEED_TOML() \
  GTEST_SKIP() << "libtomlplusplus-dev is not installed (scripts/setup installs it)"
#endif

}  // namespace

TEST(ServeConfig, FileSetsFlagsAndCommandLineWins) {
  NEED_TOML();
  const std::string model = testdata_path("models/stories260K.gguf");
  const std::string cfg = write_config("agora.toml",
                                       "# a comment\n"
                                       "model = [\"" +
                                           model +
                                           "\"]\n"
                                           "alias = [\"tiny\"]\n"
                                           "host = \"127.0.0.1\"\n"
                                           "port = 1\n"  // overridden below
                                           "api_key = \"sk-file\"\n"
                                           "parallel = 2\n"
                                           "ctx-size = 256\n"
                                           "max-queue = 3\n"
                                           "threads = 1\n"
                                           "http-threads = 1\n"
                                           "max-body-bytes = 4096\n"
                                           "max-connections = 64\n");
  ServeProcess s({"serve", "--config", cfg, "--port", "0"});
  ASSERT_GT(s.port(), 0) << s.log();
  // api-key from the file.
  EXPECT_EQ(roundtrip(s.port(), get_request("/v1/models")).status, 401);
  auto models = roundtrip(s.port(), get_request("/v1/models", "Authorization: Bearer sk-file\r\n"));
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_NE(models.body.find("\"tiny\""), std::string::npos);
  // max-body-bytes from the file.
  const std::string big(5000, ' ');
  EXPECT_EQ(
      roundtrip(s.port(), post_request("/v1/completions", big, "Authorization: Bearer sk-file\r\n"))
          .status,
      413);
  // ctx-size from the file: a 300-token prompt does not fit 256.
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += " cat";
  auto r =
      roundtrip(s.port(), post_request("/v1/completions",
                                       nlohmann::json{{"model", "tiny"}, {"prompt", prompt}}.dump(),
                                       "Authorization: Bearer sk-file\r\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("256"), std::string::npos) << r.body;
  EXPECT_EQ(s.terminate(std::chrono::seconds(10)), 0);
}

TEST(ServeConfig, StrictErrorsNameTheLine) {
  NEED_TOML();
  auto unknown =
      run_agora({"serve", "--config", write_config("a.toml", "port = 0\nmodle = \"x.gguf\"\n")});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("a.toml:2: unknown setting 'modle'"), std::string::npos)
      << unknown.err;
  auto syntax = run_agora({"serve", "--config", write_config("b.toml", "port = 0\nhost = \n")});
  EXPECT_EQ(syntax.code, 2);
  EXPECT_NE(syntax.err.find("b.toml:2:"), std::string::npos) << syntax.err;
  auto type = run_agora({"serve", "--config", write_config("c.toml", "parallel = 1.5\n")});
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.err.find("c.toml:1:"), std::string::npos) << type.err;
  auto range = run_agora({"serve", "--config", write_config("d.toml", "parallel = 0\n")});
  EXPECT_EQ(range.code, 2);
  EXPECT_NE(range.err.find("parallel"), std::string::npos) << range.err;
  auto list = run_agora({"serve", "--config", write_config("e.toml", "port = [1, 2]\n")});
  EXPECT_EQ(list.code, 2);
  auto table = run_agora({"serve", "--config", write_config("f.toml", "[server]\nport = 1\n")});
  EXPECT_EQ(table.code, 2);
  auto missing = run_agora({"serve", "--config", "/nonexistent/agora.toml"});
  EXPECT_EQ(missing.code, 2);
}
