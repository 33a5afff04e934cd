#include "platform/http/router.h"

namespace agora::platform::http {

namespace {
std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') {
      ++i;
      continue;
    }
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.emplace_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void Router::add(boost::beast::http::verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, split_path(pattern), std::move(handler)};
  routes_.push_back(std::move(r));
}

void Router::add_streaming(boost::beast::http::verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, split_path(pattern), std::move(handler), true};
  routes_.push_back(std::move(r));
}

Router::Match Router::match(boost::beast::http::verb method, std::string_view path) const {
  Match m;
  const auto segs = split_path(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (r.segments[i] == "{}") params.push_back(segs[i]);
      else ok = r.segments[i] == segs[i];
    }
    if (!ok) continue;
    if (r.method != method) {
      m.wrong_method = true;
      m.label = r.pattern;
      continue;
    }
    m.handler = &r.handler;
    m.wrong_method = false;
    m.label = r.pattern;
    m.params = std::move(params);
    m.stream_body = r.stream_body;
    return m;
  }
  return m;
}

}  // namespace agora::platform::http
