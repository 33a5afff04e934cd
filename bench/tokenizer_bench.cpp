// Tokenizer benchmark: vocabulary load time and tokenization throughput (MB/s, one thread).
//
//   tokenizer_bench [TEXT_FILE]
// Without TEXT_FILE the English text is built from the license texts in
// /usr/share/common-licenses (repeated to 4 MiB). Vocabularies come from $AGORA_TESTDATA or
// ../shared/testdata next to the source tree.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/gguf/gguf_reader.h"
#include "engine/vocab/detokenizer.h"
#include "engine/vocab/vocab.h"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU time of this thread: the build machine is shared, so wall time overstates the cost.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string testdata_dir() {
  if (const char* env = std::getenv("AGORA_TESTDATA")) return env;
  for (const char* c : {"../shared/testdata", "../../shared/testdata", "../../../shared/testdata"}) {
    if (std::filesystem::exists(c)) return c;
  }
  return "../shared/testdata";
}

std::string english_text(int argc, char** argv) {
  std::string base;
  if (argc > 1) {
    base = read_all(argv[1]);
  } else {
    for (const auto& e : std::filesystem::directory_iterator("/usr/share/common-licenses")) {
      if (e.is_regular_file()) base += read_all(e.path().string());
    }
  }
  if (base.empty()) base = "The quick brown fox jumps over the lazy dog. ";
  std::string text;
  while (text.size() < (4u << 20)) text += base;
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = testdata_dir();
  const std::string text = english_text(argc, argv);
  std::printf("text: %.2f MiB\n", text.size() / 1048576.0);
  const char* vocabs[] = {"vocab/ggml-vocab-qwen2.gguf", "vocab/ggml-vocab-llama-bpe.gguf",
                          "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-llama-spm.gguf",
                          "vocab/ggml-vocab-bert-bge.gguf"};
  std::printf("%-34s %8s %9s %9s %9s %12s %10s %11s\n", "vocab", "tokens", "open ms", "load ms",
              "tok MB/s", "tok MB/s cpu", "detok MB/s", "stream MB/s");
  for (const char* rel : vocabs) {
    const std::string path = dir + "/" + rel;
    auto t0 = clock_type::now();
    auto file = agora::GgufFile::open(path);
    if (!file) {
      std::fprintf(stderr, "%s: %s\n", rel, file.status().message().c_str());
      continue;
    }
    const double open_s = seconds_since(t0);
    t0 = clock_type::now();
    auto vocab = agora::Vocab::load(*file.value());
    const double load_s = seconds_since(t0);
    if (!vocab) {
      std::fprintf(stderr, "%s: %s\n", rel, vocab.status().message().c_str());
      continue;
    }
    const agora::Vocab& v = *vocab.value();
    // Tokenize in 64 KiB chunks (prompt-sized pieces) over the whole text.
    t0 = clock_type::now();
    const double cpu0 = thread_cpu_seconds();
    std::vector<agora::TokenId> ids;
    const size_t chunk = 64 << 10;
    for (size_t off = 0; off < text.size(); off += chunk) {
      auto part = v.tokenize(std::string_view(text).substr(off, chunk), false);
      ids.insert(ids.end(), part.begin(), part.end());
    }
    const double tok_s = seconds_since(t0);
    const double tok_cpu = thread_cpu_seconds() - cpu0;
    t0 = clock_type::now();
    const std::string back = v.detokenize(ids);
    const double detok_s = seconds_since(t0);
    t0 = clock_type::now();
    agora::Detokenizer d(v);
    size_t streamed = 0;
    for (agora::TokenId id : ids) streamed += d.push(id).size();
    streamed += d.finish().size();
    const double stream_s = seconds_since(t0);
    const double mb = text.size() / 1e6;
    std::printf("%-34s %8zu %9.1f %9.1f %9.2f %12.2f %10.2f %11.2f\n", rel, ids.size(),
                open_s * 1e3, load_s * 1e3, mb / tok_s, mb / tok_cpu, back.size() / 1e6 / detok_s,
                streamed / 1e6 / stream_s);
  }
  return 0;
}
