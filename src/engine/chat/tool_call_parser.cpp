// Tool-call parsing per family, plus the streaming hold-back logic.
#include "engine/chat/tool_call_parser.h"

#include <algorithm>

#include "engine/chat/json_text.h"

namespace agora::chat {
namespace {

constexpr std::string_view kDsCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDsCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kDsCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDsCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDsSep = "<｜tool▁sep｜>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
std::string_view rtrim(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Arguments value → JSON text: objects are re-serialised compactly; a string that holds JSON is
// taken as that JSON (some models stringify), any other string is kept as a JSON string.
bool arguments_text(const Value& v, std::string& out) {
  if (v.is_dict()) {
    out = dump_json(v);
    return true;
  }
  if (v.is_string()) {
    auto inner = parse_json(v.str());
    out = inner.ok() && inner->is_dict() ? dump_json(*inner) : dump_json(v);
    return true;
  }
  if (v.is_undefined()) {
    out = "{}";
    return true;
  }
  return false;
}

// {"name": ..., <args_key>: {...}} → call. Also accepts "arguments" / "parameters" either way.
bool call_from_object(const Value& obj, ParsedToolCall& call, const char* name_key = "name") {
  if (!obj.is_dict()) return false;
  const Value* name = obj.dict_data().find(name_key);
  if (!name || !name->is_string() || name->str().empty()) return false;
  const Value* args = obj.dict_data().find("arguments");
  if (!args) args = obj.dict_data().find("parameters");
  if (!arguments_text(args ? *args : Value(), call.arguments)) return false;
  call.name = name->str();
  for (const char* id_key : {"id", "tool_call_id"})
    if (const Value* id = obj.dict_data().find(id_key); id && id->is_string()) call.id = id->str();
  return true;
}

// Parses a JSON value at the start of `s`; returns its length or npos.
size_t json_at(std::string_view s, Value& out) {
  auto n = json_prefix_length(s);
  if (!n.ok()) return std::string_view::npos;
  auto v = parse_json(s.substr(0, *n));
  if (!v.ok()) return std::string_view::npos;
  out = std::move(v.value());
  return *n;
}

// A JSON array of call objects → calls. False (and calls untouched) when any element is bad.
bool calls_from_array(const Value& arr, std::vector<ParsedToolCall>& calls, const char* name_key = "name") {
  if (!arr.is_list()) return false;
  std::vector<ParsedToolCall> out;
  for (const auto& item : arr.list_data().items) {
    ParsedToolCall c;
    if (!call_from_object(item, c, name_key)) return false;
    out.push_back(std::move(c));
  }
  calls.insert(calls.end(), out.begin(), out.end());
  return true;
}

void parse_hermes(std::string_view text, ParsedMessage& m) {
  std::string content;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("<tool_call>", pos);
    if (open == std::string_view::npos) break;
    size_t body = open + 11;
    size_t close = text.find("</tool_call>", body);
    std::string_view inner = trim(text.substr(body, close == std::string_view::npos ? std::string_view::npos : close - body));
    Value v;
    ParsedToolCall call;
    size_t n = json_at(inner, v);
    if (n == std::string_view::npos || trim(inner.substr(n)).size() != 0 || !call_from_object(v, call)) break;
    content += text.substr(pos, open - pos);
    m.tool_calls.push_back(std::move(call));
    pos = close == std::string_view::npos ? text.size() : close + 12;
  }
  content += text.substr(pos);
  m.content = m.tool_calls.empty() ? std::string(text) : std::string(trim(content));
}

// Python-call syntax of Llama's builtin tools: name.call(key="value", n=1).
bool parse_python_call(std::string_view s, ParsedToolCall& call) {
  size_t dot = s.find(".call(");
  if (dot == std::string_view::npos || s.back() != ')') return false;
  call.name = std::string(trim(s.substr(0, dot)));
  std::string_view args = s.substr(dot + 6, s.size() - dot - 7);
  Value obj = Value::dict();
  while (!trim(args).empty()) {
    args = trim(args);
    size_t eq = args.find('=');
    if (eq == std::string_view::npos) return false;
    std::string key(trim(args.substr(0, eq)));
    args = trim(args.substr(eq + 1));
    Value v;
    if (!args.empty() && (args[0] == '"' || args[0] == '\'')) {
      char q = args[0];
      size_t end = 1;
      std::string val;
      while (end < args.size() && args[end] != q) {
        if (args[end] == '\\' && end + 1 < args.size()) ++end;
        val += args[end++];
      }
      if (end >= args.size()) return false;
      v = Value::string(val);
      args = args.substr(end + 1);
    } else {
      size_t end = args.find(',');
      std::string_view raw = trim(args.substr(0, end));
      auto j = parse_json(raw);
      v = j.ok() ? j.value() : Value::string(std::string(raw));
      args = end == std::string_view::npos ? std::string_view() : args.substr(end);
    }
    obj.dict_data().set(key, v);
    args = trim(args);
    if (!args.empty() && args[0] == ',') args.remove_prefix(1);
  }
  call.arguments = dump_json(obj);
  return !call.name.empty();
}

void parse_llama3(std::string_view text, ParsedMessage& m) {
  std::string_view t = trim(text);
  m.content = std::string(text);
  if (starts_with(t, "<|python_tag|>")) {
    std::string_view body = trim(t.substr(14));
    ParsedToolCall call;
    Value v;
    size_t n = json_at(body, v);
    if (n != std::string_view::npos && call_from_object(v, call)) {
      m.tool_calls.push_back(std::move(call));
      m.content.clear();
    } else if (parse_python_call(body, call)) {
      m.tool_calls.push_back(std::move(call));
      m.content.clear();
    } else {
      call.name = "python";  // code for the ipython environment
      call.arguments = dump_json([&] {
        Value d = Value::dict();
        d.dict_data().set("code", Value::string(std::string(body)));
        return d;
      }());
      m.tool_calls.push_back(std::move(call));
      m.content.clear();
    }
    return;
  }
  // One or more JSON objects, separated by ';' or whitespace.
  std::vector<ParsedToolCall> calls;
  std::string_view rest = t;
  while (!rest.empty() && rest[0] == '{') {
    Value v;
    ParsedToolCall call;
    size_t n = json_at(rest, v);
    if (n == std::string_view::npos || !call_from_object(v, call)) return;
    const Value* params = v.dict_data().find("parameters");
    if (!params) params = v.dict_data().find("arguments");
    if (!params) return;
    calls.push_back(std::move(call));
    rest = trim(rest.substr(n));
    if (!rest.empty() && rest[0] == ';') rest = trim(rest.substr(1));
  }
  if (rest.empty() && !calls.empty()) {
    m.tool_calls = std::move(calls);
    m.content.clear();
  }
}

void parse_json_list_after(std::string_view text, std::string_view marker, ParsedMessage& m, const char* name_key = "name") {
  m.content = std::string(text);
  size_t at = text.find(marker);
  if (at == std::string_view::npos) return;
  std::string_view body = trim(text.substr(at + marker.size()));
  Value v;
  size_t n = json_at(body, v);
  if (n == std::string_view::npos) return;
  std::vector<ParsedToolCall> calls;
  if (v.is_dict()) v = Value::list({v});
  if (!calls_from_array(v, calls, name_key)) return;
  m.tool_calls = std::move(calls);
  m.content = std::string(trim(text.substr(0, at)));
}

void parse_functionary_v3_1(std::string_view text, ParsedMessage& m) {
  std::string content;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("<function=", pos);
    size_t py = text.find("<|python_tag|>", pos);
    if (py != std::string_view::npos && (open == std::string_view::npos || py < open)) {
      ParsedToolCall call;
      call.name = "python";
      Value d = Value::dict();
      d.dict_data().set("code", Value::string(std::string(trim(text.substr(py + 14)))));
      call.arguments = dump_json(d);
      content += text.substr(pos, py - pos);
      m.tool_calls.push_back(std::move(call));
      pos = text.size();
      break;
    }
    if (open == std::string_view::npos) break;
    size_t gt = text.find('>', open);
    if (gt == std::string_view::npos) break;
    std::string name(text.substr(open + 10, gt - open - 10));
    Value v;
    size_t n = json_at(text.substr(gt + 1), v);
    if (n == std::string_view::npos || !v.is_dict() || name.empty()) break;
    size_t after = gt + 1 + n;
    std::string_view tail = text.substr(after);
    if (starts_with(tail, "</function>")) after += 11;
    content += text.substr(pos, open - pos);
    m.tool_calls.push_back(ParsedToolCall{"", name, dump_json(v)});
    pos = after;
  }
  content += text.substr(pos);
  m.content = m.tool_calls.empty() ? std::string(text) : std::string(trim(content));
}

void parse_functionary_v3_2(std::string_view text, ParsedMessage& m) {
  // Segments: recipient "\n" body, separated by ">>>". The first has no ">>>" (the prompt ends
  // with it); a leading ">>>" is tolerated.
  std::string_view rest = text;
  if (starts_with(rest, ">>>")) rest.remove_prefix(3);
  std::string content;
  std::vector<ParsedToolCall> calls;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view recipient = trim(rest.substr(0, nl));
    std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    size_t next = body.find(">>>");
    std::string_view seg = body.substr(0, next);
    if (recipient == "all") {
      content += std::string(seg);
    } else {
      Value v;
      size_t n = json_at(trim(seg), v);
      ParsedToolCall call;
      call.name = std::string(recipient);
      if (recipient == "python" && (n == std::string_view::npos || !v.is_dict())) {
        Value d = Value::dict();
        d.dict_data().set("code", Value::string(std::string(seg)));
        call.arguments = dump_json(d);
      } else if (n == std::string_view::npos || !v.is_dict() || recipient.empty()) {
        m.content = std::string(text);
        return;
      } else {
        call.arguments = dump_json(v);
      }
      calls.push_back(std::move(call));
    }
    if (next == std::string_view::npos) break;
    rest = body.substr(next + 3);
  }
  m.content = content;
  m.tool_calls = std::move(calls);
}

void parse_command_r7b(std::string_view text, ParsedMessage& m) {
  auto between = [&](std::string_view a, std::string_view b, bool& found) -> std::string_view {
    size_t s = text.find(a);
    found = s != std::string_view::npos;
    if (!found) return {};
    size_t e = text.find(b, s + a.size());
    return text.substr(s + a.size(), e == std::string_view::npos ? std::string_view::npos : e - s - a.size());
  };
  bool has_thinking, has_action, has_response;
  std::string_view thinking = between("<|START_THINKING|>", "<|END_THINKING|>", has_thinking);
  std::string_view action = between("<|START_ACTION|>", "<|END_ACTION|>", has_action);
  std::string_view response = between("<|START_RESPONSE|>", "<|END_RESPONSE|>", has_response);
  if (has_thinking) m.reasoning_content = std::string(trim(thinking));
  if (has_action) {
    Value v;
    std::vector<ParsedToolCall> calls;
    if (json_at(trim(action), v) != std::string_view::npos && calls_from_array(v, calls, "tool_name")) m.tool_calls = calls;
  }
  if (has_response) m.content = std::string(response);
  else if (!has_thinking && !has_action) m.content = std::string(text);
  else if (has_action && m.tool_calls.empty()) m.content = std::string(action);
}

void parse_deepseek_r1(std::string_view text, ParsedMessage& m) {
  std::string_view rest = text;
  size_t end_think = rest.find("</think>");
  if (end_think != std::string_view::npos) {
    std::string_view r = rest.substr(0, end_think);
    if (size_t open = r.find("<think>"); open != std::string_view::npos) r = r.substr(open + 7);
    m.reasoning_content = std::string(trim(r));
    rest = rest.substr(end_think + 8);
  } else if (starts_with(trim(rest), "<think>")) {  // unfinished reasoning
    m.reasoning_content = std::string(trim(trim(rest).substr(7)));
    return;
  }
  size_t begin = rest.find(kDsCallsBegin);
  if (begin == std::string_view::npos) {
    m.content = std::string(trim(rest));
    return;
  }
  std::vector<ParsedToolCall> calls;
  std::string_view calls_text = rest.substr(begin + kDsCallsBegin.size());
  while (true) {
    size_t cb = calls_text.find(kDsCallBegin);
    if (cb == std::string_view::npos) break;
    size_t sep = calls_text.find(kDsSep, cb);
    if (sep == std::string_view::npos) break;
    size_t nl = calls_text.find('\n', sep);
    if (nl == std::string_view::npos) break;
    std::string name(trim(calls_text.substr(sep + kDsSep.size(), nl - sep - kDsSep.size())));
    std::string_view body = calls_text.substr(nl + 1);
    size_t ce = body.find(kDsCallEnd);
    std::string_view inner = trim(body.substr(0, ce));
    if (starts_with(inner, "```json")) inner = trim(inner.substr(7));
    else if (starts_with(inner, "```")) inner = trim(inner.substr(3));
    if (inner.size() >= 3 && inner.substr(inner.size() - 3) == "```") inner = trim(inner.substr(0, inner.size() - 3));
    auto v = parse_json(inner);
    if (!v.ok() || !v->is_dict() || name.empty()) {
      m.content = std::string(trim(rest));
      return;
    }
    calls.push_back(ParsedToolCall{"", name, dump_json(*v)});
    if (ce == std::string_view::npos) break;
    calls_text = body.substr(ce + kDsCallEnd.size());
  }
  m.tool_calls = std::move(calls);
  m.content = std::string(trim(rest.substr(0, begin)));
}

}  // namespace

const char* family_name(ToolCallFamily f) {
  switch (f) {
    case ToolCallFamily::none: return "none";
    case ToolCallFamily::hermes: return "hermes";
    case ToolCallFamily::llama3: return "llama3";
    case ToolCallFamily::mistral: return "mistral";
    case ToolCallFamily::functionary_v3_1: return "functionary_v3_1";
    case ToolCallFamily::functionary_v3_2: return "functionary_v3_2";
    case ToolCallFamily::firefunction: return "firefunction";
    case ToolCallFamily::command_r: return "command_r";
    case ToolCallFamily::command_r7b: return "command_r7b";
    case ToolCallFamily::deepseek_r1: return "deepseek_r1";
  }
  return "none";
}

ToolCallFamily detect_tool_call_family(std::string_view src) {
  auto has = [&](std::string_view s) { return src.find(s) != std::string_view::npos; };
  if (has("<｜tool▁calls▁begin｜>")) return ToolCallFamily::deepseek_r1;
  if (has("<|START_ACTION|>")) return ToolCallFamily::command_r7b;
  if (has("Action:") && has("tool_name")) return ToolCallFamily::command_r;
  if (has("functools[")) return ToolCallFamily::firefunction;
  if (has(">>>all") || has(">>>${recipient}")) return ToolCallFamily::functionary_v3_2;
  if (has("<function=")) return ToolCallFamily::functionary_v3_1;
  if (has("[TOOL_CALLS]")) return ToolCallFamily::mistral;
  if (has("<tool_call>")) return ToolCallFamily::hermes;
  if (has("<|python_tag|>") || has("<|start_header_id|>ipython")) return ToolCallFamily::llama3;
  return ToolCallFamily::none;
}

ParsedMessage parse_tool_calls(ToolCallFamily family, std::string_view text) {
  ParsedMessage m;
  switch (family) {
    case ToolCallFamily::none: m.content = std::string(text); break;
    case ToolCallFamily::hermes: parse_hermes(text, m); break;
    case ToolCallFamily::llama3: parse_llama3(text, m); break;
    case ToolCallFamily::mistral: parse_json_list_after(text, "[TOOL_CALLS]", m); break;
    case ToolCallFamily::functionary_v3_1: parse_functionary_v3_1(text, m); break;
    case ToolCallFamily::functionary_v3_2: parse_functionary_v3_2(text, m); break;
    case ToolCallFamily::firefunction: parse_json_list_after(text, "functools", m); break;
    case ToolCallFamily::command_r: {
      parse_json_list_after(text, "Action:", m, "tool_name");
      if (m.tool_calls.empty()) {  // fenced form: Action: ```json [...] ```
        size_t at = text.find("Action:");
        size_t fence = at == std::string_view::npos ? at : text.find("```json", at);
        if (fence != std::string_view::npos) {
          std::string_view body = text.substr(fence + 7);
          Value v;
          std::vector<ParsedToolCall> calls;
          if (json_at(trim(body), v) != std::string_view::npos && calls_from_array(v, calls, "tool_name")) {
            m.tool_calls = std::move(calls);
            m.content = std::string(trim(text.substr(0, at)));
          }
        }
      }
      break;
    }
    case ToolCallFamily::command_r7b: parse_command_r7b(text, m); break;
    case ToolCallFamily::deepseek_r1: parse_deepseek_r1(text, m); break;
  }
  return m;
}

size_t safe_content_prefix(ToolCallFamily family, std::string_view text) {
  std::vector<std::string_view> markers;
  switch (family) {
    case ToolCallFamily::none: return text.size();
    case ToolCallFamily::hermes: markers = {"<tool_call>"}; break;
    case ToolCallFamily::llama3: {
      std::string_view t = trim(text);
      if (t.empty() || t[0] == '{' || starts_with("<|python_tag|>", t.substr(0, 14)) || starts_with(t, "<|python_tag|>")) return 0;
      return text.size();
    }
    case ToolCallFamily::mistral: markers = {"[TOOL_CALLS]"}; break;
    case ToolCallFamily::functionary_v3_1: markers = {"<function=", "<|python_tag|>"}; break;
    case ToolCallFamily::functionary_v3_2: {
      std::string_view t = starts_with(text, ">>>") ? text.substr(3) : text;
      size_t nl = t.find('\n');
      if (nl == std::string_view::npos || trim(t.substr(0, nl)) != "all") return 0;
      markers = {">>>"};
      break;
    }
    case ToolCallFamily::firefunction: markers = {"functools"}; break;
    case ToolCallFamily::command_r: markers = {"Action:"}; break;
    case ToolCallFamily::command_r7b: markers = {"<|START_ACTION|>", "<|END_RESPONSE|>", "<|START_THINKING|>", "<|END_THINKING|>"}; break;
    case ToolCallFamily::deepseek_r1: markers = {kDsCallsBegin, "</think>", "<think>"}; break;
  }
  size_t safe = text.size();
  for (auto mk : markers) {
    size_t at = text.find(mk);
    if (at != std::string_view::npos) safe = std::min(safe, at);
    // A suffix that could still grow into the marker is held back too.
    for (size_t k = std::min(mk.size() - 1, text.size()); k > 0; --k) {
      if (text.substr(text.size() - k) == mk.substr(0, k)) {
        safe = std::min(safe, text.size() - k);
        break;
      }
    }
  }
  return safe;
}

ToolCallStreamParser::Delta ToolCallStreamParser::feed(std::string_view text) {
  buffer_ += text;
  Delta d;
  ParsedMessage partial;
  if (family_ == ToolCallFamily::deepseek_r1 || family_ == ToolCallFamily::command_r7b) {
    // Reasoning streams as it comes; content after it follows the same hold-back rule.
    partial = parse_tool_calls(family_, buffer_);
    std::string_view full = buffer_;
    size_t safe = safe_content_prefix(family_, full);
    bool in_reasoning = family_ == ToolCallFamily::deepseek_r1
                            ? full.find("</think>") == std::string_view::npos && trim(full).substr(0, 7) == "<think>"
                            : full.find("<|START_THINKING|>") != std::string_view::npos &&
                                  full.find("<|END_THINKING|>") == std::string_view::npos;
    if (in_reasoning) {
      // Hold back a suffix that may be the start of the closing tag.
      std::string_view close = family_ == ToolCallFamily::deepseek_r1 ? "</think>" : "<|END_THINKING|>";
      std::string r = partial.reasoning_content;
      for (size_t k = std::min(close.size() - 1, r.size()); k > 0; --k)
        if (std::string_view(r).substr(r.size() - k) == close.substr(0, k)) {
          r.resize(r.size() - k);
          break;
        }
      if (r.size() > reasoning_sent_ && r.compare(0, reasoning_sent_, partial.reasoning_content, 0, reasoning_sent_) == 0) {
        d.reasoning_content = r.substr(reasoning_sent_);
        reasoning_sent_ = r.size();
      }
      return d;
    }
    if (partial.reasoning_content.size() > reasoning_sent_) {
      d.reasoning_content = partial.reasoning_content.substr(reasoning_sent_);
      reasoning_sent_ = partial.reasoning_content.size();
    }
    size_t after = family_ == ToolCallFamily::deepseek_r1 ? full.find("</think>") : std::string_view::npos;
    if (after != std::string_view::npos) {
      std::string_view tail = full.substr(after + 8);
      size_t s2 = safe_content_prefix(family_, tail);
      std::string c(trim(tail.substr(0, s2)));
      // Trailing whitespace may be trimmed later; only send what stays.
      if (c.size() > content_sent_) {
        d.content = c.substr(content_sent_);
        content_sent_ = c.size();
      }
    } else if (family_ == ToolCallFamily::command_r7b) {
      size_t rs = full.find("<|START_RESPONSE|>");
      if (rs != std::string_view::npos) {
        std::string_view tail = full.substr(rs + 18);
        size_t e = safe_content_prefix(family_, tail);
        if (e > content_sent_) {
          d.content = std::string(tail.substr(content_sent_, e - content_sent_));
          content_sent_ = e;
        }
      }
    }
    (void)safe;
    return d;
  }
  size_t safe = safe_content_prefix(family_, buffer_);
  std::string c = parse_tool_calls(family_, std::string_view(buffer_).substr(0, safe)).content;
  if (family_ != ToolCallFamily::none && family_ != ToolCallFamily::functionary_v3_2) {
    c = std::string(rtrim(c));  // trailing whitespace before a call is trimmed in the final parse
  }
  if (c.size() > content_sent_) {
    d.content = c.substr(content_sent_);
    content_sent_ = c.size();
  }
  return d;
}

ParsedMessage ToolCallStreamParser::finish() const { return parse_tool_calls(family_, buffer_); }

}  // namespace agora::chat
