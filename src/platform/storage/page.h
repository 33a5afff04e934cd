// Cursor pagination as in OpenAI list endpoints: `limit` (1..100, default 20), `order`
// ("asc" | "desc", default "desc" by creation), `after` / `before` (an object id from a
// previous page). A cursor id that is unknown to this owner is not_found.
#pragma once

#include <string>
#include <vector>

namespace agora::storage {

inline constexpr int kDefaultPageLimit = 20;
inline constexpr int kMaxPageLimit = 100;

enum class SortOrder { asc, desc };

struct PageRequest {
  int limit = kDefaultPageLimit;
  SortOrder order = SortOrder::desc;
  std::string after = {};   // empty = none
  std::string before = {};  // empty = none
};

template <typename T>
struct Page {
  std::vector<T> items;  // in the requested order
  bool has_more = false; // more items exist beyond the last one, in the requested direction
  std::string first_id() const { return items.empty() ? std::string() : items.front().id; }
  std::string last_id() const { return items.empty() ? std::string() : items.back().id; }
};

}  // namespace agora::storage
