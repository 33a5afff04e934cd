// POST /v1/completions: prompts (text or token ids) × n choices, legacy `text_completion` shape.
#include <random>

#include <nlohmann/json.hpp>

#include "engine/grammar/gbnf_parser.h"
#include "platform/openai/completion_request.h"
#include "platform/openai/generation.h"
#include "platform/openai/routes.h"

namespace agora::platform {

namespace net = boost::asio;
using nlohmann::json;

namespace {
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

struct CompletionChoice {
  std::string text;
  std::vector<std::string> tokens;
  std::vector<float> token_logprobs;
  json top = json::array();
  std::vector<int64_t> offsets;
  FinishReason reason = FinishReason::stop;
  Usage usage;
};

json logprobs_json(const CompletionChoice& c) {
  return {{"tokens", c.tokens}, {"token_logprobs", c.token_logprobs}, {"top_logprobs", c.top}, {"text_offset", c.offsets}};
}
}  // namespace

net::awaitable<void> handle_completions(http::Exchange& ex, OpenAiContext& ctx) {
  auto parsed = parse_completion_request(ex.body(), ctx.limits);
  if (!parsed.ok()) co_return ex.set_error(parsed.error());
  CompletionRequest& req = parsed.value();
  ServedModel* m = find_model(ctx, req.model);
  if (!m) co_return ex.set_error({ApiErrorKind::model_not_found,
                                                     "The model '" + req.model + "' does not exist.", "model"});
  std::shared_ptr<const Grammar> grammar;
  if (!req.gen.grammar.empty()) {
    auto g = parse_gbnf(req.gen.grammar);
    if (!g.ok()) co_return ex.set_error(ApiError::invalid("grammar", "Invalid grammar: " + g.status().message()));
    grammar = std::make_shared<const Grammar>(std::move(g.value()));
  }
  std::vector<GenerateParams> params;
  std::vector<std::string> echo_text;
  const uint64_t seed = req.gen.seed ? *req.gen.seed : std::random_device{}();
  for (size_t pi = 0; pi < req.prompts.size(); ++pi) {
    const PromptInput& in = req.prompts[pi];
    std::vector<int32_t> tokens = in.is_tokens ? in.tokens : m->vocab->tokenize(in.text, true, false);
    const std::string ptext = in.is_tokens ? m->vocab->detokenize(in.tokens, true) : in.text;
    for (int j = 0; j < req.gen.n; ++j) {
      GenerationOptions o = req.gen;
      o.seed = seed + static_cast<uint64_t>(j);
      auto p = make_generate_params(*m, o, tokens, ctx.limits, "prompt");
      if (!p.ok()) co_return ex.set_error(p.error());
      p.value().grammar = grammar;
      params.push_back(std::move(p.value()));
      echo_text.push_back(ptext);
    }
  }
  const int n = static_cast<int>(params.size());
  // max_tokens 0 with echo: return the prompt only (no generation).
  const bool generate = *req.gen.max_tokens > 0;
  auto queue = std::make_shared<ChoiceQueue>(co_await net::this_coro::executor);
  Submission handles;
  if (generate) {
    auto sub = submit_choices(*m->backend, std::move(params), queue);
    if (!sub.ok()) co_return ex.set_error(sub.error());
    handles = sub.value();
    ex.set_abort([handles] { handles.cancel_all(); });
  }
  const std::string id = make_id("cmpl-");
  const int64_t created = unix_now();
  const bool want_logprobs = req.gen.top_logprobs >= 0;
  std::vector<CompletionChoice> choices(n);
  for (int i = 0; i < n; ++i)
    if (req.echo) choices[i].text = echo_text[i];
  auto chunk = [&](int index, const std::string& text, json logprobs, json finish) {
    json c = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", m->id},
              {"system_fingerprint", m->fingerprint},
              {"choices", json::array({{{"index", index}, {"text", text}, {"logprobs", std::move(logprobs)}, {"finish_reason", std::move(finish)}}})}};
    if (req.gen.include_usage) c["usage"] = nullptr;
    return c;
  };
  if (req.gen.stream) {
    if (!co_await ex.begin_stream()) co_return handles.cancel_all();
    if (req.echo)
      for (int i = 0; i < n; ++i) {
        const std::string ev = dump(chunk(i, echo_text[i], nullptr, nullptr));
        co_await ex.send_event(ev);
      }
  }
  bool failed = false;
  std::string fail_message;
  ApiErrorKind fail_kind = ApiErrorKind::internal;
  if (generate) {
    const ChoiceHandler on_event = [&](ChoiceEvent& ce, std::vector<std::string>& out) {
      CompletionChoice& c = choices[ce.index];
      Event& e = ce.event;
      if (e.kind == Event::Kind::token) {
        json lp = nullptr;
        if (want_logprobs) {
          const std::string tok = m->vocab->token_to_piece(e.token, false);
          json top = json::object();
          for (const auto& t : e.top_logprobs) top[t.text] = t.logprob;
          c.offsets.push_back(static_cast<int64_t>(c.text.size()));
          c.tokens.push_back(tok);
          c.token_logprobs.push_back(e.logprob);
          c.top.push_back(top);
          lp = {{"tokens", {tok}}, {"token_logprobs", {e.logprob}}, {"top_logprobs", {top}}, {"text_offset", {c.offsets.back()}}};
        }
        c.text += e.text;
        if (req.gen.stream && (!e.text.empty() || want_logprobs)) out.push_back(dump(chunk(ce.index, e.text, lp, nullptr)));
        return;
      }
      c.reason = e.finish_reason;
      c.usage = e.usage;
      if (e.finish_reason == FinishReason::error || e.finish_reason == FinishReason::cancelled) {
        failed = true;
        fail_kind = e.finish_reason == FinishReason::cancelled ? ApiErrorKind::unavailable : ApiErrorKind::internal;
        fail_message = e.finish_reason == FinishReason::cancelled ? "The generation was cancelled (server shutting down)."
                                                                  : "Generation failed: " + e.error;
        handles.cancel_all();
        if (req.gen.stream) out.push_back(error_body({fail_kind, fail_message, ""}));
        return;
      }
      if (req.gen.stream) out.push_back(dump(chunk(ce.index, "", nullptr, openai_finish_reason(e.finish_reason))));
    };
    const bool completed = co_await pump_choices(ex, *queue, n, ctx.metrics, on_event);
    if (!completed) {
      handles.cancel_all();
      if (ex.client_gone()) co_return;
    }
  } else {
    for (int i = 0; i < n; ++i) {
      choices[i].reason = FinishReason::length;
      if (!req.gen.stream) continue;
      const std::string ev = dump(chunk(i, "", nullptr, "length"));
      co_await ex.send_event(ev);
    }
  }
  int64_t prompt_tokens = 0, completion_tokens = 0, cached = 0;
  for (int i = 0; i < n; ++i) {
    if (i % req.gen.n == 0) {
      prompt_tokens += choices[i].usage.prompt_tokens;
      cached += choices[i].usage.cached_tokens;
    }
    completion_tokens += choices[i].usage.completion_tokens;
  }
  json usage = {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                {"total_tokens", prompt_tokens + completion_tokens}, {"prompt_tokens_details", {{"cached_tokens", cached}}}};
  if (req.gen.stream) {
    if (!failed && req.gen.include_usage) {
      json u = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", m->id},
                {"system_fingerprint", m->fingerprint}, {"choices", json::array()}, {"usage", usage}};
      const std::string ev = dump(u);
      co_await ex.send_event(ev);
    }
    co_await ex.end_stream();
    co_return;
  }
  if (failed) co_return ex.set_error({fail_kind, fail_message, ""});
  json out = json::array();
  for (int i = 0; i < n; ++i)
    out.push_back({{"index", i}, {"text", choices[i].text}, {"logprobs", want_logprobs ? logprobs_json(choices[i]) : json(nullptr)},
                   {"finish_reason", openai_finish_reason(choices[i].reason)}});
  json res = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", m->id},
              {"system_fingerprint", m->fingerprint}, {"choices", out}, {"usage", usage}};
  ex.set_json(200, dump(res));
}

}  // namespace agora::platform
