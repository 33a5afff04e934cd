// Every limit the server enforces on clients, named in one place (STYLE.md rule 8). Each has a
// test that crosses it (tests/platform/limits_test.cpp; the streamed-upload limits in
// tests/platform/http/body_stream_test.cpp). Values are defaults; ServerLimits lets a
// deployment (and the tests) change them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace agora::platform {

struct ServerLimits {
  // ---- HTTP framing -------------------------------------------------------------------------
  size_t max_header_bytes = 8 * 1024;        // request line + all headers → 431
  size_t max_header_count = 100;             // header fields → 431
  size_t max_body_bytes = 8 * 1024 * 1024;   // request body read whole (JSON routes) → 413
  size_t max_upload_bytes = 512 * 1024 * 1024;  // request body of a streamed route (POST /v1/files) → 413
  size_t max_connections = 4096;             // open client sockets; more → 503 and close
  // ---- timeouts (slow clients) ---------------------------------------------------------------
  std::chrono::milliseconds header_timeout{10'000};  // whole request head (slowloris)
  std::chrono::milliseconds body_timeout{30'000};    // whole request body; for a streamed body: each read
  // A streamed body may take body_timeout plus one second per min_upload_rate bytes received, so
  // a large upload gets the time it needs while a trickle (slowloris) still ends.
  size_t min_upload_rate = 64 * 1024;                // bytes per second, averaged over the upload
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // one response write (a stalled reader)
  std::chrono::milliseconds drain_timeout{30'000};   // SIGTERM: in-flight requests finish by then
  // ---- JSON ----------------------------------------------------------------------------------
  int max_json_depth = 64;                   // nesting of arrays/objects → 400
  // ---- request fields ------------------------------------------------------------------------
  size_t max_messages = 4096;                // chat messages
  size_t max_stop = 4;                       // stop strings (OpenAI's cap)
  size_t max_stop_bytes = 256;               // one stop string
  int max_n = 16;                            // choices per request
  size_t max_tools = 128;                    // tool definitions
  size_t max_logit_bias = 1024;              // logit_bias entries
  int max_top_logprobs = 20;                 // OpenAI's cap
  size_t max_prompts = 256;                  // completions/embeddings array inputs
  int32_t max_tokens_cap = 1 << 20;          // max_tokens is clamped to min(this, n_ctx − prompt)
  size_t max_grammar_bytes = 64 * 1024;      // `grammar` extension text
  // ---- admission -----------------------------------------------------------------------------
  int retry_after_s = 1;                     // Retry-After on 429/503
};

}  // namespace agora::platform
