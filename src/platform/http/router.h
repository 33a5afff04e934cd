// Router: (method, path pattern) → handler coroutine. A pattern is a literal path whose segments
// may be `{}` (one path segment, captured into Exchange::path_params), e.g. "/v1/models/{}".
// A path that matches some pattern under another method is a 405; no match at all is a 404.
// Routes added with add() get the whole body (ServerLimits::max_body_bytes) before they run;
// routes added with add_streaming() run after the head and read the body themselves
// (Exchange::body_stream(), up to max_upload_bytes): uploads that must not sit in memory.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "platform/http/exchange.h"

namespace agora::platform::http {

using Handler = std::function<boost::asio::awaitable<void>(Exchange&)>;

class Router {
 public:
  void add(boost::beast::http::verb method, std::string pattern, Handler handler);
  void add_streaming(boost::beast::http::verb method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // nullptr: no route
    bool wrong_method = false;         // the path exists under another method
    std::string label;                 // the pattern, for metrics
    std::vector<std::string> params;
    bool stream_body = false;          // the handler reads the body (add_streaming)
  };
  Match match(boost::beast::http::verb method, std::string_view path) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    bool stream_body = false;
  };
  std::vector<Route> routes_;
};

}  // namespace agora::platform::http
