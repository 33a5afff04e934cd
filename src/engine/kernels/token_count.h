// Kernels are templates on the number of tokens they take per pass (so that their accumulators
// live in registers); with_token_count turns a run-time count 1..8 into that template argument.
//
//   with_token_count(n_act, [&](auto nt) { run_group<decltype(nt)::value>(...); });
#pragma once

#include <type_traits>

namespace agora {

template <typename F>
inline void with_token_count(int n, F&& f) {
  switch (n) {
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    default: f(std::integral_constant<int, 1>{}); break;
  }
}

}  // namespace agora
