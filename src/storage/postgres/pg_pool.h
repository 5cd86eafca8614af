// PgPool: a fixed number of PostgreSQL connections shared by the threads
// that serve requests.
//
// A caller leases a connection for one transaction and gives it back. When
// every connection is leased, Acquire waits up to kAcquireTimeout and then
// returns Unavailable, so a request never hangs on an exhausted pool.
//
// Lost connections. A connection found broken when it comes back is closed;
// the next lease opens a new one. When opening fails, further attempts wait
// for an exponential backoff (kFirstBackoff doubling up to kMaxBackoff), and
// until then every Acquire returns Unavailable at once with the last error,
// instead of stalling each request on a connection timeout. Every failure and
// the recovery are logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "util/status.h"

namespace cmfd::pg {

class PgPool;

// A leased connection; returns it to the pool when destroyed.
class PgLease {
 public:
  PgLease() = default;
  PgLease(PgPool* pool, std::unique_ptr<PgConnection> conn)
      : pool_(pool), conn_(std::move(conn)) {}
  PgLease(PgLease&& other) noexcept = default;
  PgLease& operator=(PgLease&& other) noexcept;
  ~PgLease();

  PgConnection& operator*() const { return *conn_; }
  PgConnection* operator->() const { return conn_.get(); }

  // Closes the connection instead of returning it (after an error that left
  // it in an unknown state).
  void Discard() { conn_.reset(); }

 private:
  void Return();

  PgPool* pool_ = nullptr;
  std::unique_ptr<PgConnection> conn_;
};

class PgPool {
 public:
  static constexpr std::chrono::milliseconds kAcquireTimeout{2000};
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  static constexpr int kDefaultSize = 16;

  // `size` <= 0 means kDefaultSize. Opens no connection yet.
  PgPool(std::string conninfo, int size);

  // A connection for exclusive use. Unavailable when the database cannot be
  // reached or no connection frees up within kAcquireTimeout.
  Result<PgLease> Acquire();

  int size() const { return size_; }

 private:
  friend class PgLease;

  // Takes back a leased connection; null or broken ones are dropped.
  void Return(std::unique_ptr<PgConnection> conn);

  // Opens a new connection unless the backoff forbids an attempt now.
  Result<std::unique_ptr<PgConnection>> Open();

  const std::string conninfo_;
  const int size_;

  std::mutex mutex_;
  std::condition_variable freed_;
  int leased_ = 0;
  std::vector<std::unique_ptr<PgConnection>> idle_;

  // Backoff after a failed connection attempt.
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_ = kFirstBackoff;
  std::string last_error_;
  bool failing_ = false;
};

}  // namespace cmfd::pg
