// `agora tokenize` and `agora detokenize`: the model's tokenizer from the command line.
//
//   agora tokenize -m MODEL.gguf "text" [--json] [--no-bos] [--special]
//       default: one line per token, "<id> <piece>" (piece JSON-quoted so spaces and control
//       bytes are visible); --json: only the ids as one JSON array.
//   agora detokenize -m MODEL.gguf 1,2,3
//       prints the text (control tokens rendered, BOS/EOS kept).
// Bad arguments or files: one line on stderr and exit code 2.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/vocab/unicode.h"
#include "engine/vocab/vocab.h"

namespace agora::cli {

namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  bool json = false;
  bool no_bos = false;
  bool special = false;
};

struct DetokenizeArgs {
  std::string model;
  std::string ids;
};

// A piece as a JSON string literal (valid UTF-8 out even for partial byte tokens).
std::string quote(const std::string& raw) {
  const std::string s = unicode::sanitize_utf8(raw);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::unique_ptr<Vocab> load_vocab(const std::string& path) {
  auto v = Vocab::load_file(path);
  if (!v) {
    fail(2, "cannot load tokenizer from '" + path + "': " + v.status().message());
    return nullptr;
  }
  return std::move(v.value());
}

void run_tokenize(const TokenizeArgs& a) {
  auto vocab = load_vocab(a.model);
  if (!vocab) return;
  const auto ids = vocab->tokenize(a.text, /*add_special=*/!a.no_bos, a.special);
  std::string out;
  if (a.json) {
    out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(ids[i]);
    }
    out += "]\n";
  } else {
    for (TokenId id : ids) {
      out += std::to_string(id) + " " + quote(vocab->token_to_piece(id, true)) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void run_detokenize(const DetokenizeArgs& a) {
  std::vector<TokenId> ids;
  size_t pos = 0;
  const std::string& s = a.ids;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos ||
        item.size() > 10) {
      fail(2, "bad token id '" + item + "' (expected comma-separated non-negative integers)");
      return;
    }
    const unsigned long long v = std::stoull(item);
    if (v > 0x7FFFFFFFull) {
      fail(2, "token id " + item + " is out of range");
      return;
    }
    ids.push_back(static_cast<TokenId>(v));
    pos = end + 1;
  }
  auto vocab = load_vocab(a.model);
  if (!vocab) return;
  for (TokenId id : ids) {
    if (!vocab->valid(id)) {
      fail(2, "token id " + std::to_string(id) + " is out of range (vocabulary has " +
                  std::to_string(vocab->n_tokens()) + " tokens)");
      return;
    }
  }
  const std::string text = vocab->detokenize(ids, /*remove_special=*/false, /*unparse_special=*/true);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto targs = std::make_shared<TokenizeArgs>();
  CLI::App* t = app.add_subcommand("tokenize", "Print the token ids of a text");
  t->add_option("-m,--model", targs->model, "GGUF model or vocabulary file")->required();
  t->add_option("text", targs->text, "Text to tokenize")->required();
  t->add_flag("--json", targs->json, "Print only the ids, as one JSON array");
  t->add_flag("--no-bos", targs->no_bos, "Do not add BOS/EOS even if the model asks for them");
  t->add_flag("--special", targs->special, "Parse control-token text such as <|im_start|>");
  t->callback([targs] { run_tokenize(*targs); });

  auto dargs = std::make_shared<DetokenizeArgs>();
  CLI::App* d = app.add_subcommand("detokenize", "Print the text of comma-separated token ids");
  d->add_option("-m,--model", dargs->model, "GGUF model or vocabulary file")->required();
  d->add_option("ids", dargs->ids, "Token ids, e.g. 1,2,3")->required();
  d->callback([dargs] { run_detokenize(*dargs); });
}

}  // namespace agora::cli
