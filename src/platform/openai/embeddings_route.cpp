// POST /v1/embeddings: one Backend::embed per input, float arrays or base64 little-endian f32.
#include <cstring>

#include <nlohmann/json.hpp>

#include "platform/http/event_queue.h"
#include "platform/openai/completion_request.h"
#include "platform/openai/generation.h"
#include "platform/openai/routes.h"

namespace agora::platform {

namespace net = boost::asio;
using nlohmann::json;

namespace {
std::string base64(const void* data, size_t n) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

struct EmbedEvent {
  int index = 0;
  EmbedResult result;
};
}  // namespace

net::awaitable<void> handle_embeddings(http::Exchange& ex, OpenAiContext& ctx) {
  auto parsed = parse_embedding_request(ex.body(), ctx.limits);
  if (!parsed.ok()) co_return ex.set_error(parsed.error());
  EmbeddingRequest& req = parsed.value();
  ServedModel* m = find_model(ctx, req.model);
  if (!m) co_return ex.set_error({ApiErrorKind::model_not_found,
                                                     "The model '" + req.model + "' does not exist.", "model"});
  if (req.dimensions != 0 && req.dimensions != m->backend->n_embd())
    co_return ex.set_error(ApiError::invalid(
        "dimensions", "This model's embeddings have " + std::to_string(m->backend->n_embd()) + " dimensions; other sizes are not supported."));
  const int n = static_cast<int>(req.inputs.size());
  std::vector<EmbedParams> params(n);
  for (int i = 0; i < n; ++i) {
    const PromptInput& in = req.inputs[i];
    params[i].tokens = in.is_tokens ? in.tokens : m->vocab->tokenize(in.text, true, false);
    for (int32_t t : params[i].tokens)
      if (!m->vocab->valid(t)) co_return ex.set_error(ApiError::invalid("input", "Token id " + std::to_string(t) + " is outside the vocabulary."));
    if (static_cast<int64_t>(params[i].tokens.size()) > m->backend->n_ctx())
      co_return ex.set_error({ApiErrorKind::context_length_exceeded,
                                                 "This model's maximum context length is " + std::to_string(m->backend->n_ctx()) +
                                                     " tokens. However, input[" + std::to_string(i) + "] has " +
                                                     std::to_string(params[i].tokens.size()) + " tokens.",
                                                 "input"});
  }
  auto queue = std::make_shared<http::EventQueue<EmbedEvent>>(co_await net::this_coro::executor);
  std::vector<std::shared_ptr<RequestHandle>> handles;
  auto cancel_all = [&handles] {
    for (auto& h : handles) h->cancel();
  };
  for (int i = 0; i < n; ++i) {
    auto h = m->backend->embed(std::move(params[i]), [queue, i](EmbedResult&& r) { queue->push({i, std::move(r)}); });
    if (!h.ok()) {
      cancel_all();
      co_return ex.set_error(ApiError::from_status(h.status()));
    }
    handles.push_back(std::move(h.value()));
  }
  std::vector<EmbedResult> results(n);
  for (int done = 0; done < n;) {
    auto batch = co_await queue->pop_all();
    for (auto& e : batch) {
      results[e.index] = std::move(e.result);
      ++done;
    }
  }
  int64_t total = 0;
  json data = json::array();
  for (int i = 0; i < n; ++i) {
    if (!results[i].status.ok()) co_return ex.set_error(ApiError::from_status(results[i].status, "input"));
    total += results[i].n_tokens;
    const auto& v = results[i].embedding;
    data.push_back({{"object", "embedding"}, {"index", i},
                    {"embedding", req.base64 ? json(base64(v.data(), v.size() * sizeof(float))) : json(v)}});
  }
  ctx.metrics.count_tokens(total, 0);
  json res = {{"object", "list"}, {"data", data}, {"model", m->id}, {"usage", {{"prompt_tokens", total}, {"total_tokens", total}}}};
  ex.set_json(200, res.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace agora::platform
