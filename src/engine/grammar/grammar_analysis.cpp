// Productivity, nullability and left-recursion checks. Contracts in grammar_analysis.h.
#include "engine/grammar/grammar_analysis.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace agora {

namespace {

// Worklist fixpoint shared by "productive" and "nullable": an alternative holds when each of its
// rule references holds (and, if `terminals_block`, it has no terminal); a rule holds when one of
// its alternatives does. Each reference is visited a bounded number of times: O(grammar size).
std::vector<bool> rule_fixpoint(const Grammar& g, bool terminals_block) {
  const size_t n_rules = g.rules.size();
  std::vector<uint32_t> pending;            // per alternative: references not yet known to hold
  std::vector<uint32_t> alt_rule;           // owning rule of each alternative
  std::vector<std::vector<uint32_t>> uses(n_rules);  // rule -> alternatives referencing it
  std::vector<bool> holds(n_rules, false);
  std::vector<uint32_t> work;
  for (uint32_t r = 0; r < n_rules; ++r) {
    for (uint32_t start : g.rules[r].alternatives) {
      uint32_t alt = static_cast<uint32_t>(pending.size());
      uint32_t count = 0;
      bool blocked = false;
      for (uint32_t i = start; g.elements[i].kind != ElementKind::end; ++i) {
        if (g.elements[i].kind == ElementKind::rule_ref) {
          ++count;
          uses[g.elements[i].value].push_back(alt);
        } else if (terminals_block) {
          blocked = true;
        }
      }
      pending.push_back(blocked ? UINT32_MAX : count);
      alt_rule.push_back(r);
      if (count == 0 && !blocked && !holds[r]) {
        holds[r] = true;
        work.push_back(r);
      }
    }
  }
  while (!work.empty()) {
    uint32_t r = work.back();
    work.pop_back();
    for (uint32_t alt : uses[r]) {
      if (pending[alt] == UINT32_MAX || pending[alt] == 0) continue;
      if (--pending[alt] == 0 && !holds[alt_rule[alt]]) {
        holds[alt_rule[alt]] = true;
        work.push_back(alt_rule[alt]);
      }
    }
  }
  return holds;
}

struct Edge {
  uint32_t to;
  bool tail;  // the reference is the last element of its alternative
};

// Tarjan's strongly connected components without recursion. Returns the component of each node.
std::vector<uint32_t> strongly_connected(const std::vector<std::vector<Edge>>& adj) {
  const uint32_t n = static_cast<uint32_t>(adj.size());
  const uint32_t kUnvisited = UINT32_MAX;
  std::vector<uint32_t> index(n, kUnvisited), low(n, 0), comp(n, kUnvisited);
  std::vector<bool> on_stack(n, false);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> call;  // (node, next edge to look at)
  uint32_t next_index = 0, next_comp = 0;
  for (uint32_t s = 0; s < n; ++s) {
    if (index[s] != kUnvisited) continue;
    call.push_back({s, 0});
    index[s] = low[s] = next_index++;
    stack.push_back(s);
    on_stack[s] = true;
    while (!call.empty()) {
      auto& [v, e] = call.back();
      if (e < adj[v].size()) {
        uint32_t w = adj[v][e++].to;
        if (index[w] == kUnvisited) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = true;
          call.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      uint32_t done = v;
      call.pop_back();
      if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[done]);
      if (low[done] == index[done]) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = next_comp;
        } while (w != done);
        ++next_comp;
      }
    }
  }
  return comp;
}

}  // namespace

std::vector<bool> nullable_rules(const Grammar& g) { return rule_fixpoint(g, true); }

Status analyse_grammar(Grammar& g) {
  // 1. Productivity: drop alternatives that can never finish.
  std::vector<bool> productive = rule_fixpoint(g, false);
  if (!productive[g.root]) {
    return Status(ErrorCode::invalid_argument,
                  "grammar can never complete: rule '" + g.rules[g.root].name +
                      "' derives no finite string (every alternative needs a rule that cannot "
                      "finish)");
  }
  for (auto& rule : g.rules) {
    auto keep = [&](uint32_t start) {
      for (uint32_t i = start; g.elements[i].kind != ElementKind::end; ++i) {
        if (g.elements[i].kind == ElementKind::rule_ref && !productive[g.elements[i].value]) {
          return false;
        }
      }
      return true;
    };
    std::vector<uint32_t> kept;
    for (uint32_t start : rule.alternatives) {
      if (keep(start)) kept.push_back(start);
    }
    rule.alternatives = std::move(kept);
  }

  // 2. Left-reference graph: A -> B when B can be the first thing A expands to.
  std::vector<bool> nullable = nullable_rules(g);
  std::vector<std::vector<Edge>> adj(g.rules.size());
  for (uint32_t r = 0; r < g.rules.size(); ++r) {
    for (uint32_t start : g.rules[r].alternatives) {
      for (uint32_t i = start; g.elements[i].kind == ElementKind::rule_ref; ++i) {
        uint32_t to = g.elements[i].value;
        adj[r].push_back({to, g.elements[i + 1].kind == ElementKind::end});
        if (!nullable[to]) break;
      }
    }
  }

  // 3. A non-tail edge inside one component pushes a continuation on every turn of the cycle.
  std::vector<uint32_t> comp = strongly_connected(adj);
  for (uint32_t r = 0; r < g.rules.size(); ++r) {
    for (const Edge& e : adj[r]) {
      if (!e.tail && comp[e.to] == comp[r]) {
        std::string msg = "left recursion: rule '" + g.rules[r].name + "' (" +
                          to_string(g.rules[r].pos) + ") can reach itself through '" +
                          g.rules[e.to].name + "' without consuming input";
        return Status(ErrorCode::invalid_argument, msg);
      }
    }
  }
  return {};
}

}  // namespace agora
