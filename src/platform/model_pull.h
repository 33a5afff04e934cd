// Downloading a GGUF model (`agora pull`): Hugging Face-style URLs, resume, checksum, atomic
// rename.
//
//   PullOptions o;
//   o.spec = "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf";
//   auto path = pull_model(o, [](const PullProgress& p) { ... });
//
// The file is fetched from `<base>/<owner>/<name>/resolve/<revision>/<file>` (base defaults to
// https://huggingface.co; a spec that is already an http(s) URL is used as is) into
// `<models_dir>/<file name>.part`. A `.part` left by an interrupted download is resumed with an
// HTTP Range request (a server that ignores the range restarts it from zero). When complete the
// file is checked against a SHA-256 — `--sha256` if given, else the server's `X-Linked-Etag` or
// `ETag` when that is a SHA-256 (Hugging Face sends the LFS object's) — then fsynced and renamed
// to its final name. A mismatch deletes the `.part` and leaves no final file.
//
// Network egress is what this command is for, so it only runs when a user asks for it; the
// token in $HF_TOKEN (if any) is sent as `Authorization: Bearer` to the first host only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/util/status.h"

namespace agora::platform {

struct PullOptions {
  std::string spec;                                 // OWNER/NAME/FILE.gguf or a full URL
  std::string base_url = "https://huggingface.co";  // --from
  std::string revision = "main";
  std::string models_dir = "models";
  std::string sha256;  // expected, lower/upper hex; empty = from the server's ETag if it is one
  std::string token;   // bearer token (e.g. $HF_TOKEN); empty = none
  bool force = false;  // download again even when the final file exists
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;  // abort when no byte arrived for this long
};

struct PullProgress {
  int64_t received = 0;  // bytes in the .part file so far (including a resumed prefix)
  int64_t total = -1;    // -1 while unknown
  double seconds = 0;    // since this transfer began
  int64_t resumed_from = 0;
};
using PullProgressFn = std::function<void(const PullProgress&)>;

struct PullResult {
  std::string path;  // the final file
  std::string url;
  std::string sha256;     // of the file, lower-case hex
  bool verified = false;  // compared against an expected checksum
  bool already_present = false;
  int64_t resumed_from = 0;
  int64_t bytes = 0;
};

// The URL `spec` resolves to (invalid_argument when the spec is neither OWNER/NAME/FILE nor a URL).
Result<std::string> pull_url(const PullOptions& options);

// Downloads (or resumes) the model. Errors: invalid_argument (bad spec or checksum text),
// io_error (network, HTTP status such as 404, disk), invalid_file (checksum mismatch). The
// message is one line naming the URL or file. Never throws.
Result<PullResult> pull_model(const PullOptions& options, const PullProgressFn& progress = {});

// SHA-256 of a file as lower-case hex (io_error when unreadable).
Result<std::string> sha256_file(const std::string& path);

// True for 64 hex digits.
bool is_sha256_hex(const std::string& s);

}  // namespace agora::platform
