// Router: (method, path pattern) → handler coroutine. A pattern is a literal path whose segments
// may be `{}` (one path segment, captured into Exchange::path_params), e.g. "/v1/models/{}".
// A path that matches some pattern under another method is a 405; no match at all is a 404.
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

  struct Match {
    const Handler* handler = nullptr;  // nullptr: no route
    bool wrong_method = false;         // the path exists under another method
    std::string label;                 // the pattern, for metrics
    std::vector<std::string> params;
  };
  Match match(boost::beast::http::verb method, std::string_view path) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace agora::platform::http
