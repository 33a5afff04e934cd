// POST /v1/chat/completions: messages → template → tokens → n choices on the Backend → the
// OpenAI response object, or a stream of chat.completion.chunk events.
#include <random>

#include <nlohmann/json.hpp>

#include "engine/chat/tool_call_parser.h"
#include "platform/openai/chat_grammar.h"
#include "platform/openai/chat_request.h"
#include "platform/openai/generation.h"
#include "platform/openai/routes.h"

namespace agora::platform {

namespace net = boost::asio;
using nlohmann::json;

namespace {

// Bytes of tool-call arguments per streamed chunk (OpenAI sends a token or two per chunk).
constexpr size_t k_arguments_fragment_bytes = 8;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json bytes_of(const std::string& s) {
  json a = json::array();
  for (unsigned char c : s) a.push_back(static_cast<int>(c));
  return a;
}

// One chat logprobs `content` entry for a token event.
json logprob_entry(const Vocab& vocab, const Event& e) {
  const std::string text = vocab.token_to_piece(e.token, false);
  json top = json::array();
  for (const auto& t : e.top_logprobs) top.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}});
  return {{"token", text}, {"logprob", e.logprob}, {"bytes", bytes_of(text)}, {"top_logprobs", top}};
}

struct ChoiceState {
  explicit ChoiceState(chat::ToolCallFamily f) : parser(f) {}
  std::string text;
  json logprobs = json::array();
  chat::ToolCallStreamParser parser;
  size_t content_sent = 0;
  bool finished = false;
  FinishReason reason = FinishReason::stop;
  std::string error;
  Usage usage;
};

struct ToolCallOut {
  std::string id, name, arguments;
};

// The final message of a choice: content and tool calls.
struct FinalMessage {
  std::optional<std::string> content;
  std::vector<ToolCallOut> tool_calls;
};

FinalMessage final_message(const ChoiceState& c, bool forced, bool parse_tools, chat::ToolCallFamily family) {
  FinalMessage m;
  if (forced) {
    // The grammar made the text {"name":…, "arguments":…}; a cut-off text is not a call.
    json j = json::parse(c.text, nullptr, false);
    if (j.is_object() && j.contains("name") && j["name"].is_string() && j.contains("arguments")) {
      m.tool_calls.push_back({make_id("call_"), j["name"].get<std::string>(), dump(j["arguments"])});
    } else {
      m.content = c.text;
    }
    return m;
  }
  if (parse_tools) {
    auto parsed = chat::parse_tool_calls(family, c.text);
    for (auto& t : parsed.tool_calls) m.tool_calls.push_back({t.id.empty() ? make_id("call_") : t.id, t.name, t.arguments});
    if (!parsed.content.empty() || m.tool_calls.empty()) m.content = parsed.content;
    return m;
  }
  m.content = c.text;
  return m;
}

// Tool-call `arguments` in the pieces a stream sends them in, as OpenAI streams them (a few
// bytes per chunk, never one piece): at most `max_bytes` each, cut between UTF-8 characters.
// The pieces concatenated are `args`.
std::vector<std::string> argument_fragments(const std::string& args, size_t max_bytes) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < args.size()) {
    size_t end = std::min(args.size(), i + max_bytes);
    while (end < args.size() && end > i + 1 && (static_cast<unsigned char>(args[end]) & 0xC0) == 0x80) --end;
    out.push_back(args.substr(i, end - i));
    i = end;
  }
  return out;
}

json usage_json(const Usage& u, int64_t completion_tokens) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", u.prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
}

}  // namespace

net::awaitable<void> handle_chat_completions(http::Exchange& ex, OpenAiContext& ctx) {
  auto parsed = parse_chat_request(ex.body(), ctx.limits);
  if (!parsed.ok()) co_return ex.set_error(parsed.error());
  ChatRequest& req = parsed.value();
  ServedModel* m = find_model(ctx, req.model);
  if (!m) co_return ex.set_error({ApiErrorKind::model_not_found,
                                                     "The model '" + req.model + "' does not exist.", "model"});
  auto constraint = chat_constraint(req);
  if (!constraint.ok()) co_return ex.set_error(constraint.error());

  // Prompt: the model's template (or ChatML) over the messages and tools.
  chat::FormatOptions fo;
  fo.bos_token = m->bos_text;
  fo.eos_token = m->eos_text;
  auto prompt_text = m->formatter->format(req.messages, req.tool_choice == ToolChoiceMode::none ? "" : req.tools_json, fo);
  if (!prompt_text.ok())
    co_return ex.set_error(ApiError::invalid("messages", "The chat template could not render these messages: " +
                                                                                prompt_text.status().message()));
  const std::string& pt = prompt_text.value();
  const bool add_special = m->bos_text.empty() || !pt.starts_with(m->bos_text);
  std::vector<int32_t> prompt = m->vocab->tokenize(pt, add_special, /*parse_special=*/true);

  std::vector<GenerateParams> params;
  const uint64_t seed = req.gen.seed ? *req.gen.seed : std::random_device{}();
  for (int i = 0; i < req.gen.n; ++i) {
    GenerationOptions o = req.gen;
    o.seed = seed + static_cast<uint64_t>(i);
    auto p = make_generate_params(*m, o, prompt, ctx.limits, "messages");
    if (!p.ok()) co_return ex.set_error(p.error());
    p.value().grammar = constraint.value().grammar;
    params.push_back(std::move(p.value()));
  }

  auto queue = std::make_shared<ChoiceQueue>(co_await net::this_coro::executor);
  auto sub = submit_choices(*m->backend, std::move(params), queue);
  if (!sub.ok()) co_return ex.set_error(sub.error());
  const Submission handles = sub.value();
  ex.set_abort([handles] { handles.cancel_all(); });

  const bool forced = constraint.value().forced_tool_call;
  const auto family = m->formatter->tool_call_family();
  const bool parse_tools = !forced && !req.tools.empty() && req.tool_choice == ToolChoiceMode::automatic &&
                           family != chat::ToolCallFamily::none;
  const bool want_logprobs = req.gen.top_logprobs >= 0;
  const std::string id = make_id("chatcmpl-");
  const int64_t created = unix_now();
  std::vector<ChoiceState> choices;
  for (int i = 0; i < req.gen.n; ++i) choices.emplace_back(family);

  auto chunk = [&](json choices_json) {
    json c = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", m->id},
              {"system_fingerprint", m->fingerprint}, {"choices", std::move(choices_json)}};
    if (req.gen.include_usage) c["usage"] = nullptr;
    return c;
  };
  auto delta_choice = [](int index, json delta, json logprobs, json finish) {
    return json{{"index", index}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)}, {"finish_reason", std::move(finish)}};
  };

  auto role_chunk = [&](int i) {
    return dump(chunk(json::array({delta_choice(i, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr, nullptr)})));
  };
  if (req.gen.stream) {
    if (!co_await ex.begin_stream()) co_return handles.cancel_all();
    for (int i = 0; i < req.gen.n; ++i) {
      const std::string ev = role_chunk(i);
      co_await ex.send_event(ev);
    }
  }

  bool failed = false;
  std::string fail_message;
  ApiErrorKind fail_kind = ApiErrorKind::internal;
  const ChoiceHandler on_event = [&](ChoiceEvent& ce, std::vector<std::string>& out) {
    ChoiceState& c = choices[ce.index];
    Event& e = ce.event;
    if (e.kind == Event::Kind::token) {
      c.text += e.text;
      json lp;
      if (want_logprobs) {
        lp = logprob_entry(*m->vocab, e);
        c.logprobs.push_back(lp);
      }
      if (!req.gen.stream || forced) return;
      std::string delta_text;
      if (parse_tools) {
        delta_text = c.parser.feed(e.text).content;
      } else {
        delta_text = e.text;
      }
      c.content_sent += delta_text.size();
      if (delta_text.empty() && !want_logprobs) return;
      json logprobs = want_logprobs ? json{{"content", json::array({lp})}, {"refusal", nullptr}} : json(nullptr);
      out.push_back(dump(chunk(json::array({delta_choice(ce.index, {{"content", delta_text}}, logprobs, nullptr)}))));
      return;
    }
    // finish
    c.finished = true;
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
    if (!req.gen.stream) return;
    FinalMessage fm = final_message(c, forced, parse_tools, family);
    if (fm.content && fm.content->size() > c.content_sent && !forced) {
      out.push_back(dump(chunk(json::array({delta_choice(ce.index, {{"content", fm.content->substr(c.content_sent)}}, nullptr, nullptr)}))));
    } else if (forced && fm.tool_calls.empty() && fm.content) {
      out.push_back(dump(chunk(json::array({delta_choice(ce.index, {{"content", *fm.content}}, nullptr, nullptr)}))));
    }
    for (size_t k = 0; k < fm.tool_calls.size(); ++k) {
      const auto& t = fm.tool_calls[k];
      json call = {{"index", static_cast<int>(k)}, {"id", t.id}, {"type", "function"},
                   {"function", {{"name", t.name}, {"arguments", ""}}}};
      out.push_back(dump(chunk(json::array({delta_choice(ce.index, {{"tool_calls", json::array({call})}}, nullptr, nullptr)}))));
      for (const std::string& piece : argument_fragments(t.arguments, k_arguments_fragment_bytes)) {
        json args = {{"index", static_cast<int>(k)}, {"function", {{"arguments", piece}}}};
        out.push_back(dump(chunk(json::array({delta_choice(ce.index, {{"tool_calls", json::array({args})}}, nullptr, nullptr)}))));
      }
    }
    const char* reason = !fm.tool_calls.empty() ? (req.tool_choice == ToolChoiceMode::function ? "stop" : "tool_calls")
                                                : openai_finish_reason(c.reason);
    out.push_back(dump(chunk(json::array({delta_choice(ce.index, json::object(), nullptr, reason)}))));
  };
  const bool completed = co_await pump_choices(ex, *queue, req.gen.n, ctx.metrics, on_event);
  if (!completed) {
    handles.cancel_all();
    if (ex.client_gone()) co_return;
  }

  Usage usage = choices.empty() ? Usage{} : choices[0].usage;
  int64_t completion_tokens = 0;
  for (const auto& c : choices) completion_tokens += c.usage.completion_tokens;

  if (req.gen.stream) {
    if (!failed && req.gen.include_usage) {
      json u = chunk(json::array());
      u["usage"] = usage_json(usage, completion_tokens);
      const std::string ev = dump(u);
      co_await ex.send_event(ev);
    }
    co_await ex.end_stream();
    co_return;
  }
  if (failed) co_return ex.set_error({fail_kind, fail_message, ""});

  json out_choices = json::array();
  for (int i = 0; i < req.gen.n; ++i) {
    const ChoiceState& c = choices[i];
    FinalMessage fm = final_message(c, forced, parse_tools, family);
    json msg = {{"role", "assistant"}, {"content", fm.content ? json(*fm.content) : json(nullptr)}, {"refusal", nullptr}};
    if (!fm.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& t : fm.tool_calls)
        calls.push_back({{"id", t.id}, {"type", "function"}, {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
      msg["tool_calls"] = calls;
    }
    const char* reason = !fm.tool_calls.empty() ? (req.tool_choice == ToolChoiceMode::function ? "stop" : "tool_calls")
                                                : openai_finish_reason(c.reason);
    out_choices.push_back({{"index", i},
                           {"message", msg},
                           {"logprobs", want_logprobs ? json{{"content", c.logprobs}, {"refusal", nullptr}} : json(nullptr)},
                           {"finish_reason", reason}});
  }
  json res = {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", m->id},
              {"system_fingerprint", m->fingerprint}, {"choices", out_choices},
              {"usage", usage_json(usage, completion_tokens)}};
  ex.set_json(200, dump(res));
}

}  // namespace agora::platform
