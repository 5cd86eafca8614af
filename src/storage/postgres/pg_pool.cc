#include "storage/postgres/pg_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cmfd::pg {

// ---- PgLease ----

PgLease& PgLease::operator=(PgLease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    generation_ = other.generation_;
    other.pool_ = nullptr;
  }
  return *this;
}

PgLease::~PgLease() { Return(); }

void PgLease::Return() {
  if (pool_ == nullptr) return;
  pool_->Return(std::move(conn_), generation_);
  pool_ = nullptr;
}

void PgLease::Discard() {
  conn_.reset();
  if (pool_ != nullptr) pool_->Lost(generation_);
}

// ---- PgPool ----

PgPool::PgPool(std::string conninfo, int size)
    : conninfo_(std::move(conninfo)), size_(size > 0 ? size : kDefaultSize) {}

Result<PgLease> PgPool::Acquire() {
  std::unique_ptr<PgConnection> conn;
  std::uint64_t generation = 0;
  {
    std::unique_lock lock(mutex_);
    bool free = freed_.wait_for(lock, kAcquireTimeout, [&] { return leased_ < size_; });
    if (!free) {
      spdlog::warn("database pool exhausted: all {} connections busy for {} ms", size_,
                   kAcquireTimeout.count());
      return Status::Unavailable("database unavailable: all " + std::to_string(size_) +
                                 " connections stayed busy for " +
                                 std::to_string(kAcquireTimeout.count()) + " ms");
    }
    ++leased_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back().conn);
      generation = idle_.back().generation;
      idle_.pop_back();
    }
    // A connection opened from here on belongs to the current generation:
    // it postdates every loss seen so far.
    if (!conn) generation = generation_;
  }

  if (!conn) {
    Result<std::unique_ptr<PgConnection>> opened = Open();
    if (!opened.ok()) {
      Return(nullptr, generation);
      return opened.status();
    }
    conn = std::move(opened.value());
  }
  return PgLease(this, std::move(conn), generation);
}

void PgPool::Return(std::unique_ptr<PgConnection> conn, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  --leased_;
  // A connection inside a transaction was abandoned by an error path that
  // could not roll back; closing it is the only safe reset.
  if (conn && generation == generation_ && !conn->Broken() &&
      PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
    idle_.push_back({std::move(conn), generation});
  }
  freed_.notify_one();
}

void PgPool::Lost(std::uint64_t generation) {
  std::vector<Idle> closed;
  {
    std::lock_guard lock(mutex_);
    // Several requests may find connections of one generation dead; the
    // first starts the new generation, the others have nothing left to do.
    if (generation != generation_) return;
    ++generation_;
    closed.swap(idle_);
  }
  // Closing happens outside the lock: PQfinish may write to the socket.
  spdlog::warn("database connection lost, so closing the {} idle connections opened before it",
               closed.size());
}

Result<std::unique_ptr<PgConnection>> PgPool::Open() {
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (failing_ && now < next_attempt_) {
      // The message says that the failure is the latest attempt's, which is
      // at most kMaxBackoff old, not a fresh one.
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
      return Status::Unavailable(last_error_ + " (next connection attempt in " +
                                 std::to_string(wait.count()) + " ms)");
    }
  }

  Result<std::unique_ptr<PgConnection>> opened = PgConnection::Connect(conninfo_);

  std::lock_guard lock(mutex_);
  if (!opened.ok()) {
    last_error_ = opened.status().message();
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    spdlog::error("database connection failed, next attempt in {} ms: {}", backoff_.count(),
                  last_error_);
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    failing_ = true;
    return opened.status();
  }
  if (failing_) {
    spdlog::info("database connection restored");
    failing_ = false;
  }
  backoff_ = kFirstBackoff;
  return opened;
}

}  // namespace cmfd::pg
