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
    other.pool_ = nullptr;
  }
  return *this;
}

PgLease::~PgLease() { Return(); }

void PgLease::Return() {
  if (pool_ == nullptr) return;
  pool_->Return(std::move(conn_));
  pool_ = nullptr;
}

// ---- PgPool ----

PgPool::PgPool(std::string conninfo, int size)
    : conninfo_(std::move(conninfo)), size_(size > 0 ? size : kDefaultSize) {}

Result<PgLease> PgPool::Acquire() {
  std::unique_ptr<PgConnection> conn;
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
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }

  if (!conn) {
    Result<std::unique_ptr<PgConnection>> opened = Open();
    if (!opened.ok()) {
      Return(nullptr);
      return opened.status();
    }
    conn = std::move(opened.value());
  }
  return PgLease(this, std::move(conn));
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mutex_);
  --leased_;
  // A connection inside a transaction was abandoned by an error path that
  // could not roll back; closing it is the only safe reset.
  if (conn && !conn->Broken() && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

Result<std::unique_ptr<PgConnection>> PgPool::Open() {
  {
    std::lock_guard lock(mutex_);
    if (failing_ && std::chrono::steady_clock::now() < next_attempt_) {
      return Status::Unavailable(last_error_);
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
