// ctest-labels: unit model
// Golden vectors: every ggml-vocab-*.gguf with .inp/.out in shared/testdata/vocab must
// tokenize each string (no BOS, parse_special off) to exactly the reference ids and detokenize
// back as the reference does; every model in shared/testdata/models must reproduce the
// prompt_tokens of its reference JSON.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "engine/vocab/vocab.h"
#include "support/testdata.h"

namespace agora {
namespace {

struct Case {
  std::string text;
  std::vector<TokenId> ids;
};

std::vector<Case> read_cases(const std::string& gguf_path) {
  const std::string inp = test::read_file(gguf_path + ".inp");
  const std::string out = test::read_file(gguf_path + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < inp.size()) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    Case c;
    c.text = i < texts.size() ? texts[i] : std::string();
    std::istringstream nums(line);
    long v = 0;
    while (nums >> v) c.ids.push_back(static_cast<TokenId>(v));
    cases.push_back(std::move(c));
    ++i;
  }
  EXPECT_EQ(texts.size(), cases.size()) << gguf_path << ": .inp and .out disagree in count";
  return cases;
}

std::string ids_str(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s += " " + std::to_string(id);
  return s;
}

std::vector<std::string> vocab_files_with_vectors() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(test::testdata_dir() + "/vocab")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ggml-vocab-", 0) == 0 && e.path().extension() == ".gguf" &&
        std::filesystem::exists(e.path().string() + ".inp") &&
        std::filesystem::exists(e.path().string() + ".out")) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The text the reference's detokenizer gives back for an input it tokenized.
std::string expected_detokenized(const Vocab& vocab, const std::string& text) {
  std::string expected = text;
  if (vocab.normalizes_nfc()) return expected;  // the .inp strings are NFC already
  if (vocab.clean_spaces()) clean_up_tokenization_spaces(expected);
  return expected;
}

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, TokenizeAndDetokenize) {
  const std::string path = test::testdata_path("vocab/" + GetParam());
  auto vocab = Vocab::load_file(path);
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  const Vocab& v = *vocab.value();
  const auto cases = read_cases(path);
  ASSERT_FALSE(cases.empty());
  int failures = 0;
  for (const Case& c : cases) {
    const auto got = v.tokenize(c.text, /*add_special=*/false, /*parse_special=*/false);
    if (got != c.ids) {
      ++failures;
      ADD_FAILURE() << GetParam() << ": '" << c.text << "'\n  expected:" << ids_str(c.ids)
                    << "\n  got:     " << ids_str(got);
      continue;
    }
    const std::string back = v.detokenize(got, /*remove_special=*/false, /*unparse_special=*/false);
    if (v.type() == VocabType::wpm) {
      // WordPiece loses case, accents and spacing, and [UNK] renders as nothing; re-tokenizing
      // what it gives back must give the same ids without the unknowns.
      std::vector<TokenId> known;
      for (TokenId id : got) {
        if (id != v.unk()) known.push_back(id);
      }
      EXPECT_EQ(v.tokenize(back, false, false), known) << GetParam() << ": '" << c.text << "'";
    } else {
      EXPECT_EQ(back, expected_detokenized(v, c.text)) << GetParam() << ": '" << c.text << "'";
    }
  }
  EXPECT_EQ(failures, 0) << GetParam() << ": " << failures << " of " << cases.size() << " failed";
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, VocabVectors, ::testing::ValuesIn(vocab_files_with_vectors()),
                         [](const auto& info) {
                           std::string n = info.param.substr(11, info.param.size() - 16);
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(VocabVectors, EveryVocabFileLoads) {
  for (const auto& e : std::filesystem::directory_iterator(test::testdata_dir() + "/vocab")) {
    if (e.path().extension() != ".gguf") continue;
    auto vocab = Vocab::load_file(e.path().string());
    EXPECT_TRUE(vocab.ok()) << e.path() << ": " << vocab.status().message();
  }
}

TEST(ModelPromptTokens, MatchReference) {
  const char* names[] = {"stories260K", "llama-2-tiny-random", "rand-llama",
                         "rand-qwen2",  "rand-phi3",           "rand-gemma2"};
  for (const char* name : names) {
    const auto ref = nlohmann::json::parse(
        test::read_file(test::testdata_path(std::string("reference/") + name + ".json")));
    const bool parse_special = std::string(name) == "rand-qwen2";
    for (const auto& variant : ref["variants"]) {
      const std::string file = variant["file"].get<std::string>();
      auto vocab = Vocab::load_file(test::testdata_path(file));
      ASSERT_TRUE(vocab.ok()) << file << ": " << vocab.status().message();
      const Vocab& v = *vocab.value();
      EXPECT_EQ(v.add_bos(), variant["add_bos"].get<bool>()) << file;
      EXPECT_EQ(v.bos(), variant["bos_id"].get<int>()) << file;
      EXPECT_EQ(v.eos(), variant["eos_id"].get<int>()) << file;
      EXPECT_EQ(v.n_tokens(), variant["n_vocab"].get<uint32_t>()) << file;
      for (const auto& p : variant["prompts"]) {
        const std::string prompt = p["prompt"].get<std::string>();
        const auto expected = p["prompt_tokens"].get<std::vector<TokenId>>();
        const auto got = v.tokenize(prompt, /*add_special=*/true, parse_special);
        EXPECT_EQ(got, expected) << file << ": '" << prompt << "'";
        // The reference's own detokenization of prompt + generation.
        if (p.contains("full_text_detokenized") && p.contains("generated_tokens")) {
          std::vector<TokenId> all = expected;
          for (const auto& t : p["generated_tokens"]) all.push_back(t.get<TokenId>());
          const std::string text = v.detokenize(all, /*remove_special=*/true, false);
          // The JSON replaces invalid UTF-8 by U+FFFD; compare only valid outputs exactly.
          if (p["full_text_detokenized"].get<std::string>().find("\xEF\xBF\xBD") ==
              std::string::npos) {
            EXPECT_EQ(text, p["full_text_detokenized"].get<std::string>()) << file << ": '" << prompt << "'";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace agora
