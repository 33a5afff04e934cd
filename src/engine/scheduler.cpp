#include "engine/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "engine/grammar/grammar_matcher.h"
#include "engine/vocab/detokenizer.h"

namespace agora {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::error: return "error";
  }
  return "?";
}

using Clock = std::chrono::steady_clock;

// Queue and wake-up state shared by the engine thread and every request handle (a handle may
// outlive the scheduler: cancelling it then only sets its flag).
struct Scheduler::Shared {
  std::mutex mu;
  std::condition_variable cv;       // wakes the engine thread
  std::condition_variable idle_cv;  // signals wait_idle() / clear_prefix_cache()
  std::deque<std::shared_ptr<Req>> incoming;
  bool stop = false;
  bool shutting_down = false;
  bool wake = false;
  bool clear_cache = false;
  int n_pending = 0;  // submitted and not finished
  int n_queued = 0;   // submitted and not yet admitted
  bool engine_idle = true;  // nothing queued or running, stats up to date
};

struct Scheduler::Req final : RequestHandle {
  uint64_t id_ = 0;
  std::weak_ptr<Shared> shared;
  std::atomic<bool> cancelled{false};
  bool is_embed = false;
  GenerateParams gp;
  EventSink sink;
  EmbedParams ep;
  EmbedSink esink;
  // engine-thread state
  int seq = -1;
  bool admitted_once = false;
  std::vector<int32_t> tokens;  // prompt + generated; the last one may not be in the KV yet
  size_t n_prompt = 0;
  size_t n_computed = 0;        // tokens whose keys/values are in the cache
  int32_t n_cached = 0;
  int32_t n_generated = 0;
  uint64_t admit_order = 0;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<GrammarMatcher> matcher;
  TokenMask mask;
  std::unique_ptr<Detokenizer> detok;
  std::string held;  // decoded text held back because it may start a stop string
  Clock::time_point t_submit;
  double ttft = -1.0;

  void cancel() override {
    if (cancelled.exchange(true)) return;
    if (auto s = shared.lock()) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->wake = true;
      s->cv.notify_one();
    }
  }
  uint64_t id() const override { return id_; }
};

Result<std::unique_ptr<Scheduler>> Scheduler::create(const Model& model, const Vocab& vocab, SchedulerParams p) {
  const ModelParams& mp = model.params();
  if (p.n_parallel < 1 || p.n_parallel > 1024) return Status(ErrorCode::invalid_argument, "n_parallel must be in 1..1024");
  if (p.n_ctx <= 0) p.n_ctx = std::min<int64_t>(mp.n_ctx_train, 4096);
  if (p.n_batch < 1) return Status(ErrorCode::invalid_argument, "n_batch must be positive");
  if (p.max_queue < 0) return Status(ErrorCode::invalid_argument, "max_queue must be >= 0");
  if (static_cast<int64_t>(vocab.n_tokens()) != mp.n_vocab)
    return Status(ErrorCode::invalid_file, "the vocabulary has " + std::to_string(vocab.n_tokens()) + " tokens but the model " +
                                               std::to_string(mp.n_vocab));
  if (p.kv_tokens <= 0) p.kv_tokens = static_cast<int64_t>(p.n_parallel) * p.n_ctx;
  p.kv_tokens = std::max(p.kv_tokens, p.n_ctx);  // one full context always fits
  std::unique_ptr<Scheduler> s(new Scheduler(model, vocab, p));
  ContextParams cp;
  cp.n_ctx = p.n_ctx;
  cp.n_seq = p.n_parallel;
  cp.n_batch = p.n_batch;
  cp.kv_type = p.kv_type;
  cp.n_threads = p.n_threads;
  cp.block_size = p.block_size;
  cp.kv_blocks = (p.kv_tokens + p.block_size - 1) / p.block_size;
  auto ctx = Context::create(model, cp);
  if (!ctx.ok()) return ctx.status();
  s->ctx_ = std::move(ctx.value());
  s->params_.n_threads = s->ctx_->params().n_threads;
  if (p.prefix_cache) s->cache_ = std::make_unique<PrefixCache>(s->ctx_->kv());
  s->is_eog_.assign(static_cast<size_t>(mp.n_vocab), 0);
  for (int32_t id : vocab.eog_ids())
    if (id >= 0 && id < mp.n_vocab) s->is_eog_[static_cast<size_t>(id)] = 1;
  for (int i = p.n_parallel - 1; i >= 0; --i) s->free_slots_.push_back(i);
  s->shared_ = std::make_shared<Shared>();
  s->thread_ = std::thread([raw = s.get()] { raw->loop(); });
  return s;
}

Scheduler::~Scheduler() {
  if (!shared_) return;  // create() failed before the engine thread started
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
    shared_->cv.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

Status Scheduler::build_grammar_vocab() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (std::atomic_load(&grammar_vocab_)) return {};
  std::vector<std::string> pieces(vocab_.n_tokens());
  std::vector<int32_t> never;
  for (uint32_t id = 0; id < vocab_.n_tokens(); ++id) {
    pieces[id] = vocab_.token_to_piece(static_cast<int32_t>(id), false);
    if (vocab_.is_control(static_cast<int32_t>(id)) && !vocab_.is_eog(static_cast<int32_t>(id)))
      never.push_back(static_cast<int32_t>(id));
  }
  auto gv = GrammarVocab::create(pieces, vocab_.eog_ids(), never);
  if (!gv.ok()) return gv.status();
  std::atomic_store(&grammar_vocab_, std::shared_ptr<const GrammarVocab>(std::make_shared<GrammarVocab>(std::move(gv.value()))));
  return {};
}

// Admission control and hand-off to the engine thread (shared by generate and embed).
Result<std::shared_ptr<RequestHandle>> Scheduler::enqueue(std::shared_ptr<Req> r) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->shutting_down || shared_->stop) return Status(ErrorCode::unavailable, "the server is shutting down");
    if (shared_->n_queued >= params_.max_queue)
      return Status(ErrorCode::resource_exhausted, "too many requests are waiting (" + std::to_string(shared_->n_queued) + ")");
    ++shared_->n_pending;
    ++shared_->n_queued;
    shared_->engine_idle = false;
    shared_->incoming.push_back(r);
    shared_->cv.notify_one();
  }
  return std::shared_ptr<RequestHandle>(std::move(r));
}

Result<std::shared_ptr<RequestHandle>> Scheduler::generate(GenerateParams gp, EventSink sink) {
  const int64_t nv = model_.params().n_vocab;
  if (!model_.params().generative())
    return Status(ErrorCode::invalid_argument, "'" + model_.params().arch_name + "' is an embedding model: it cannot generate text");
  if (gp.prompt.empty()) return Status(ErrorCode::invalid_argument, "the prompt is empty");
  for (int32_t t : gp.prompt)
    if (t < 0 || t >= nv) return Status(ErrorCode::invalid_argument, "prompt token id " + std::to_string(t) + " is outside the vocabulary");
  if (static_cast<int64_t>(gp.prompt.size()) >= params_.n_ctx)
    return Status(ErrorCode::out_of_range, "the prompt has " + std::to_string(gp.prompt.size()) +
                                               " tokens, but the model's context is " + std::to_string(params_.n_ctx) +
                                               " tokens (at least one must remain for the completion)");
  if (gp.top_logprobs > 20) return Status(ErrorCode::invalid_argument, "top_logprobs must be at most 20");
  for (const auto& s : gp.stop)
    if (s.empty()) return Status(ErrorCode::invalid_argument, "stop strings must not be empty");
  if (gp.grammar) {
    Status st = build_grammar_vocab();
    if (!st.ok()) return st;
  }
  auto r = std::make_shared<Req>();
  r->id_ = next_id_.fetch_add(1);
  r->shared = shared_;
  r->sink = std::move(sink);
  r->tokens = gp.prompt;
  r->n_prompt = gp.prompt.size();
  r->sampler = std::make_unique<Sampler>(gp.sampling, nv);
  if (gp.grammar) {
    r->matcher = std::make_unique<GrammarMatcher>(gp.grammar, std::atomic_load(&grammar_vocab_));
    r->mask.resize(static_cast<size_t>(nv));
  }
  r->detok = std::make_unique<Detokenizer>(vocab_);
  r->gp = std::move(gp);
  r->t_submit = Clock::now();
  return enqueue(std::move(r));
}

Result<std::shared_ptr<RequestHandle>> Scheduler::embed(EmbedParams ep, EmbedSink sink) {
  const int64_t nv = model_.params().n_vocab;
  if (ep.tokens.empty()) return Status(ErrorCode::invalid_argument, "the input is empty");
  for (int32_t t : ep.tokens)
    if (t < 0 || t >= nv) return Status(ErrorCode::invalid_argument, "token id " + std::to_string(t) + " is outside the vocabulary");
  if (static_cast<int64_t>(ep.tokens.size()) > params_.n_ctx)
    return Status(ErrorCode::out_of_range, "the input has " + std::to_string(ep.tokens.size()) +
                                               " tokens, but the model's context is " + std::to_string(params_.n_ctx) + " tokens");
  auto r = std::make_shared<Req>();
  r->id_ = next_id_.fetch_add(1);
  r->shared = shared_;
  r->is_embed = true;
  r->tokens = ep.tokens;
  r->n_prompt = ep.tokens.size();
  r->ep = std::move(ep);
  r->esink = std::move(sink);
  r->t_submit = Clock::now();
  return enqueue(std::move(r));
}

BackendStats Scheduler::stats() const {
  BackendStats s;
  s.n_running = n_running_.load();
  s.n_queued = n_queued_.load();
  s.kv_blocks_total = ctx_->kv().n_blocks();
  s.kv_blocks_used = blocks_in_seqs_.load() + blocks_in_cache_.load();
  s.prefix_cache_lookups = cache_lookups_.load();
  s.prefix_cache_hits = cache_hits_.load();
  s.tokens_generated = tokens_generated_.load();
  s.tokens_prompt = tokens_prompt_.load();
  s.preemptions = preemptions_.load();
  return s;
}

void Scheduler::begin_shutdown() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->shutting_down = true;
}

void Scheduler::wait_idle() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->idle_cv.wait(lock, [this] { return shared_->n_pending == 0 && shared_->engine_idle; });
}

void Scheduler::clear_prefix_cache() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->clear_cache = true;
  shared_->cv.notify_one();
  shared_->idle_cv.wait(lock, [this] { return !shared_->clear_cache || shared_->stop; });
}

// ---- engine thread ---------------------------------------------------------------------------

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(shared_->mu);
      const bool busy = !running_.empty() || !waiting_.empty();
      if (!busy)
        shared_->cv.wait(lock, [this] {
          return shared_->stop || shared_->wake || shared_->clear_cache || !shared_->incoming.empty();
        });
      if (shared_->stop) break;
      while (!shared_->incoming.empty()) {
        waiting_.push_back(std::move(shared_->incoming.front()));
        shared_->incoming.pop_front();
      }
      shared_->wake = false;
      if (shared_->clear_cache) {
        if (cache_) cache_->clear();
        update_stats();
        shared_->clear_cache = false;
        shared_->idle_cv.notify_all();
      }
    }
    step();
    update_stats();
    if (running_.empty() && waiting_.empty()) {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (shared_->incoming.empty()) {
        shared_->engine_idle = true;
        shared_->idle_cv.notify_all();
      }
    }
  }
  // Shutting down: everything still here ends as cancelled.
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    while (!shared_->incoming.empty()) {
      waiting_.push_back(std::move(shared_->incoming.front()));
      shared_->incoming.pop_front();
    }
  }
  auto all = running_;
  for (auto& r : all) finish(*r, FinishReason::cancelled);
  running_.clear();
  while (!waiting_.empty()) {
    auto r = waiting_.front();
    waiting_.pop_front();
    finish(*r, FinishReason::cancelled);
  }
  if (cache_) cache_->clear();
  update_stats();
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->idle_cv.notify_all();
}

void Scheduler::update_stats() {
  n_running_ = static_cast<int>(running_.size());
  n_queued_ = static_cast<int>(waiting_.size());
  int64_t in_seqs = 0;
  for (const auto& r : running_)
    if (r->seq >= 0) in_seqs += static_cast<int64_t>(ctx_->seq_blocks(r->seq).size());
  blocks_in_seqs_ = in_seqs;
  blocks_in_cache_ = cache_ ? static_cast<int64_t>(cache_->n_nodes()) : 0;
  pool_used_ = ctx_->kv().n_used();
  if (cache_) {
    cache_lookups_ = cache_->lookups();
    cache_hits_ = cache_->hits();
  }
}

void Scheduler::admit() {
  const size_t bs = static_cast<size_t>(params_.block_size);
  while (!free_slots_.empty() && !waiting_.empty()) {
    std::shared_ptr<Req> r = waiting_.front();
    waiting_.pop_front();
    r->seq = free_slots_.back();
    free_slots_.pop_back();
    r->admit_order = ++admit_counter_;
    r->n_computed = 0;
    if (!r->is_embed && cache_) {
      // At least the last token is recomputed: its logits are needed.
      const size_t max_blocks = (r->tokens.size() - 1) / bs;
      std::vector<int32_t> blocks = cache_->lookup(r->tokens, max_blocks);
      r->n_computed = blocks.size() * bs;
      ctx_->adopt_blocks(r->seq, blocks);
    }
    if (!r->admitted_once) {
      r->admitted_once = true;
      r->n_cached = static_cast<int32_t>(std::min(r->n_computed, r->n_prompt));
      std::lock_guard<std::mutex> lock(shared_->mu);
      --shared_->n_queued;
    }
    running_.push_back(std::move(r));
  }
}

void Scheduler::release(Req& r, bool cache_prefix) {
  if (r.seq < 0) return;
  if (cache_prefix && cache_) {
    const size_t bs = static_cast<size_t>(params_.block_size);
    const auto& blocks = ctx_->seq_blocks(r.seq);
    const size_t n_full = std::min(std::min(r.n_computed, r.tokens.size()) / bs, blocks.size());
    cache_->insert(r.tokens, std::span<const int32_t>(blocks.data(), n_full));
  }
  ctx_->clear_seq(r.seq);
  free_slots_.push_back(r.seq);
  r.seq = -1;
}

void Scheduler::preempt(Req& r) {
  // Frees the sequence; it is recomputed from its tokens when admitted again.
  ++preemptions_;
  ctx_->clear_seq(r.seq);
  free_slots_.push_back(r.seq);
  r.seq = -1;
  r.n_computed = 0;
  auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &r; });
  if (it != running_.end()) {
    waiting_.push_front(*it);
    running_.erase(it);
  }
}

void Scheduler::finish(Req& r, FinishReason reason, std::string error) {
  if (r.is_embed) {
    release(r, false);
    EmbedResult res;
    res.status = reason == FinishReason::cancelled ? Status(ErrorCode::cancelled, "cancelled")
                                                   : Status(ErrorCode::internal, error.empty() ? "embedding failed" : error);
    if (r.esink) r.esink(std::move(res));
  } else {
    Event ev;
    ev.kind = Event::Kind::finish;
    ev.finish_reason = reason;
    ev.error = std::move(error);
    if (reason != FinishReason::error && r.detok) {
      std::string rest = r.held + r.detok->finish();
      r.held.clear();
      // Text released only now may still contain a stop string.
      size_t cut = std::string::npos;
      for (const auto& s : r.gp.stop) cut = std::min(cut, rest.find(s));
      if (cut != std::string::npos) {
        rest.resize(cut);
        if (reason == FinishReason::length) ev.finish_reason = FinishReason::stop;
      }
      ev.text = std::move(rest);
    }
    ev.usage.prompt_tokens = static_cast<int32_t>(r.n_prompt);
    ev.usage.completion_tokens = r.n_generated;
    ev.usage.cached_tokens = r.n_cached;
    ev.time_to_first_token_s = std::max(0.0, r.ttft);
    release(r, reason != FinishReason::error);
    if (r.sink) r.sink(std::move(ev));
  }
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (!r.admitted_once) --shared_->n_queued;
  r.admitted_once = true;  // counted once
  --shared_->n_pending;
  shared_->idle_cv.notify_all();
}

void Scheduler::run_embedding(Req& r) {
  const int64_t E = model_.params().n_embd;
  std::vector<BatchEntry> batch(r.tokens.size());
  for (size_t i = 0; i < r.tokens.size(); ++i) batch[i] = {r.tokens[i], static_cast<int32_t>(i), r.seq, true};
  Status st = ctx_->reserve(r.seq, static_cast<int64_t>(r.tokens.size()));
  if (!st.ok() && cache_) {
    cache_->evict(static_cast<int64_t>(r.tokens.size() / params_.block_size + 1));
    st = ctx_->reserve(r.seq, static_cast<int64_t>(r.tokens.size()));
  }
  if (!st.ok()) {
    finish(r, FinishReason::error, st.message());
    return;
  }
  auto hidden = ctx_->decode_hidden(batch);
  if (!hidden.ok()) {
    finish(r, FinishReason::error, hidden.status().message());
    return;
  }
  const float* h = hidden.value().data();
  const size_t n = r.tokens.size();
  EmbedResult res;
  res.n_tokens = static_cast<int32_t>(n);
  res.embedding.assign(static_cast<size_t>(E), 0.0f);
  Pooling pooling = r.ep.pooling;
  if (pooling == Pooling::none) {
    // The model's own pooling (GGUF pooling_type); generative models default to mean.
    const int mp = model_.params().generative() ? 1 : model_.params().pooling;
    pooling = mp == 2 ? Pooling::cls : mp == 3 ? Pooling::last : Pooling::mean;
  }
  switch (pooling) {
    case Pooling::cls:
      std::copy(h, h + E, res.embedding.begin());
      break;
    case Pooling::last:
      std::copy(h + (n - 1) * E, h + n * E, res.embedding.begin());
      break;
    case Pooling::none:
    case Pooling::mean: {
      std::vector<double> acc(static_cast<size_t>(E), 0.0);
      for (size_t t = 0; t < n; ++t)
        for (int64_t i = 0; i < E; ++i) acc[i] += h[t * E + i];
      for (int64_t i = 0; i < E; ++i) res.embedding[i] = static_cast<float>(acc[i] / static_cast<double>(n));
      break;
    }
  }
  if (r.ep.normalize) {
    double ss = 0;
    for (float x : res.embedding) ss += static_cast<double>(x) * x;
    const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
    for (float& x : res.embedding) x *= inv;
  }
  release(r, false);
  tokens_prompt_ += static_cast<int64_t>(n);
  if (r.esink) r.esink(std::move(res));
  std::lock_guard<std::mutex> lock(shared_->mu);
  --shared_->n_pending;
  shared_->idle_cv.notify_all();
}

void Scheduler::emit_text(Req& r, std::string text, Event& ev) {
  r.held += text;
  // A stop string ends generation before it; the rest of the text is dropped.
  size_t cut = std::string::npos;
  for (const auto& s : r.gp.stop) cut = std::min(cut, r.held.find(s));
  if (cut != std::string::npos) {
    ev.text = r.held.substr(0, cut);
    r.held.clear();
    r.detok.reset();  // nothing more is emitted
    return;
  }
  // Hold back the longest tail that could begin a stop string.
  size_t keep = 0;
  for (const auto& s : r.gp.stop) {
    for (size_t k = std::min(s.size() - 1, r.held.size()); k > keep; --k)
      if (r.held.compare(r.held.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
  }
  ev.text = r.held.substr(0, r.held.size() - keep);
  r.held.erase(0, r.held.size() - keep);
}

void Scheduler::sample_and_emit(Req& r, const float* logits) {
  const int64_t nv = model_.params().n_vocab;
  const uint8_t* allowed = nullptr;
  std::vector<uint8_t> allowed_bytes;
  if (r.matcher) {
    r.matcher->fill_mask(r.mask);
    if (r.mask.count() == 0) {
      finish(r, FinishReason::error, "the grammar allows no further token");
      return;
    }
    allowed_bytes = r.mask.to_bytes();
    allowed = allowed_bytes.data();
  }
  const int32_t tok = r.sampler->sample(logits, allowed);
  r.sampler->accept(tok);
  if (r.matcher) {
    Status st = r.matcher->accept_token(tok);
    if (!st.ok()) {
      finish(r, FinishReason::error, st.message());
      return;
    }
  }
  Event ev;
  ev.kind = Event::Kind::token;
  ev.token = tok;
  if (r.gp.top_logprobs >= 0) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < nv; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int64_t i = 0; i < nv; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
    const double lse = mx + std::log(sum);
    ev.logprob = static_cast<float>(logits[tok] - lse);
    if (r.gp.top_logprobs > 0) {
      std::vector<int32_t> idx(static_cast<size_t>(nv));
      std::iota(idx.begin(), idx.end(), 0);
      const size_t k = std::min<size_t>(static_cast<size_t>(r.gp.top_logprobs), idx.size());
      std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(k), idx.end(),
                        [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
      for (size_t i = 0; i < k; ++i)
        ev.top_logprobs.push_back({idx[i], vocab_.token_to_piece(idx[i], false), static_cast<float>(logits[idx[i]] - lse)});
    }
  }
  const bool eog = is_eog_[static_cast<size_t>(tok)] ||
                   std::find(r.gp.extra_eog.begin(), r.gp.extra_eog.end(), tok) != r.gp.extra_eog.end();
  if (eog && !r.gp.ignore_eos) {
    finish(r, FinishReason::stop);
    return;
  }
  r.tokens.push_back(tok);
  ++r.n_generated;
  ++tokens_generated_;
  if (r.ttft < 0) r.ttft = std::chrono::duration<double>(Clock::now() - r.t_submit).count();
  emit_text(r, r.detok->push(tok), ev);
  const bool stopped = !r.detok;
  if (r.sink) r.sink(std::move(ev));
  if (stopped) {
    r.detok = std::make_unique<Detokenizer>(vocab_);  // empty: finish() flushes nothing
    finish(r, FinishReason::stop);
  } else if (r.gp.max_tokens >= 0 && r.n_generated >= r.gp.max_tokens) {
    finish(r, FinishReason::length);
  } else if (static_cast<int64_t>(r.tokens.size()) >= params_.n_ctx) {
    finish(r, FinishReason::length);
  } else if (r.matcher && !r.matcher->can_continue()) {
    finish(r, FinishReason::stop);
  }
}

bool Scheduler::step() {
  // 1. Cancellations: queued requests leave without running; running ones free their blocks.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if ((*it)->cancelled.load()) {
      auto r = *it;
      it = waiting_.erase(it);
      finish(*r, FinishReason::cancelled);
    } else {
      ++it;
    }
  }
  for (auto it = running_.begin(); it != running_.end();) {
    if ((*it)->cancelled.load()) {
      auto r = *it;
      it = running_.erase(it);
      finish(*r, FinishReason::cancelled);
    } else {
      ++it;
    }
  }
  // 2. Admission.
  admit();
  if (running_.empty()) return false;

  // 3. Embedding requests run whole, one at a time.
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if ((*it)->is_embed) {
      auto r = *it;
      running_.erase(it);
      run_embedding(*r);
      return true;
    }
  }

  // 4. Plan the batch: decode tokens first, then prompt chunks under the budget.
  struct Plan {
    Req* r;
    size_t n;
  };
  std::vector<Plan> plan;
  for (;;) {
    plan.clear();
    int64_t budget = params_.n_batch;
    for (auto& r : running_)
      if (r->tokens.size() - r->n_computed == 1 && budget > 0) {
        plan.push_back({r.get(), 1});
        --budget;
      }
    const size_t n_run = running_.size();
    for (size_t k = 0; k < n_run && budget > 0; ++k) {
      Req* r = running_[(rr_ + k) % n_run].get();
      const size_t remaining = r->tokens.size() - r->n_computed;
      if (remaining <= 1) continue;
      const size_t n = std::min<size_t>(remaining, static_cast<size_t>(budget));
      plan.push_back({r, n});
      budget -= static_cast<int64_t>(n);
    }
    // KV blocks for everything planned: evict cached prefixes, then preempt the newest sequence.
    Req* victim = nullptr;
    for (const Plan& p : plan) {
      Status st = ctx_->reserve(p.r->seq, static_cast<int64_t>(p.r->n_computed + p.n));
      if (st.ok()) continue;
      const int64_t need = static_cast<int64_t>((p.r->n_computed + p.n + params_.block_size - 1) / params_.block_size) -
                           static_cast<int64_t>(ctx_->seq_blocks(p.r->seq).size());
      if (cache_ && cache_->evict(need) >= need && ctx_->reserve(p.r->seq, static_cast<int64_t>(p.r->n_computed + p.n)).ok())
        continue;
      for (auto& r : running_)
        if (!victim || r->admit_order > victim->admit_order) victim = r.get();
      break;
    }
    if (!victim) break;
    if (running_.size() == 1) {
      // Cannot happen: the pool holds a full context. Fail the request rather than spin.
      finish(*victim, FinishReason::error, "the KV cache cannot hold this sequence");
      running_.clear();
      return true;
    }
    preempt(*victim);
  }
  if (plan.empty()) return false;
  rr_ = (rr_ + 1) % std::max<size_t>(1, running_.size());

  std::vector<BatchEntry> batch;
  for (const Plan& p : plan)
    for (size_t i = 0; i < p.n; ++i) {
      const size_t pos = p.r->n_computed + i;
      batch.push_back({p.r->tokens[pos], static_cast<int32_t>(pos), p.r->seq, pos + 1 == p.r->tokens.size()});
    }
  auto logits = ctx_->decode(batch);
  if (!logits.ok()) {
    for (const Plan& p : plan) {
      auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& q) { return q.get() == p.r; });
      auto r = *it;
      running_.erase(it);
      finish(*r, FinishReason::error, logits.status().message());
    }
    return true;
  }
  const float* l = logits.value().data();
  const int64_t nv = model_.params().n_vocab;
  std::vector<std::shared_ptr<Req>> done;
  for (const Plan& p : plan) {
    Req& r = *p.r;
    const bool prefill = r.n_computed < r.n_prompt;
    r.n_computed += p.n;
    if (prefill) tokens_prompt_ += static_cast<int64_t>(std::min(r.n_computed, r.n_prompt) - (r.n_computed - p.n));
    if (r.n_computed != r.tokens.size()) continue;
    sample_and_emit(r, l);
    l += nv;
  }
  // Finished requests released their slot in finish(); drop them from the running list.
  running_.erase(std::remove_if(running_.begin(), running_.end(), [](const auto& r) { return r->seq < 0; }), running_.end());
  return true;
}

}  // namespace agora
