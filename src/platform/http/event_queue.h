// EventQueue: hands values from any thread (the engine's) to one coroutine on an Asio executor.
//
//   auto q = std::make_shared<EventQueue<Event>>(executor);
//   backend.generate(params, [q](Event&& e) { q->push(std::move(e)); });   // engine thread
//   for (;;) { auto batch = co_await q->pop_all(); ... }                   // the connection's strand
//
// push() never blocks (the sink contract). The queue is bounded by what the producer sends: one
// generation emits at most max_tokens + 1 events. pop_all() must be awaited by one coroutine
// running on `executor` (a strand), which is what makes the wake-up race-free: the wake is
// posted to the same strand, so it runs after the waiter has suspended or before it checks.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace agora::platform::http {

template <typename T>
class EventQueue : public std::enable_shared_from_this<EventQueue<T>> {
 public:
  explicit EventQueue(boost::asio::any_io_executor executor) : timer_(executor) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }

  // Any thread.
  void push(T value) {
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(value));
    }
    wake();
  }
  // Any thread: makes a pending pop_all() return (possibly empty).
  void wake() {
    boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->timer_.cancel(); });
  }

  // On the executor: everything queued, waiting until something is (or wake() is called).
  boost::asio::awaitable<std::vector<T>> pop_all() {
    for (int round = 0;; ++round) {
      {
        std::lock_guard lock(mu_);
        if (!items_.empty() || round > 0) {
          std::vector<T> out(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.end()));
          items_.clear();
          co_return out;
        }
      }
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

 private:
  std::mutex mu_;
  std::deque<T> items_;
  boost::asio::steady_timer timer_;
};

}  // namespace agora::platform::http
