// PgPool: a fixed number of PostgreSQL connections shared by the threads
// that serve requests.
//
// A caller leases a connection for one transaction and gives it back. When
// every connection is leased, Acquire waits up to kAcquireTimeout and then
// returns Unavailable, so a request never hangs on an exhausted pool.
//
// Lost connections. A connection found broken when it comes back is closed;
// the next lease opens a new one. When the server drops one connection it has
// usually dropped them all (a restart, a failover, pg_terminate_backend), so
// a lease discarded as lost also closes every connection opened before it
// that is idle or comes back later: the caller's retry then gets a new
// connection instead of the next dead one. When opening fails, further attempts wait
// for an exponential backoff (kFirstBackoff doubling up to kMaxBackoff), and
// until then every Acquire returns Unavailable at once with the last error,
// instead of stalling each request on a connection timeout. Every failure and
// the recovery are logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
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
  PgLease(PgPool* pool, std::unique_ptr<PgConnection> conn, std::uint64_t generation)
      : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
  PgLease(PgLease&& other) noexcept = default;
  PgLease& operator=(PgLease&& other) noexcept;
  ~PgLease();

  PgConnection& operator*() const { return *conn_; }
  PgConnection* operator->() const { return conn_.get(); }

  // Closes the connection, found lost, instead of returning it, and has the
  // pool close every connection opened before it (see above).
  void Discard();

 private:
  void Return();

  PgPool* pool_ = nullptr;
  std::unique_ptr<PgConnection> conn_;
  std::uint64_t generation_ = 0;  // PgPool::generation_ when the connection opened
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

  // Takes back a leased connection; null or broken ones are dropped, and so
  // are those opened before the last connection loss.
  void Return(std::unique_ptr<PgConnection> conn, std::uint64_t generation);

  // A connection opened in `generation` was found lost: starts a new
  // generation and closes the idle connections of older ones.
  void Lost(std::uint64_t generation);

  // Opens a new connection unless the backoff forbids an attempt now.
  Result<std::unique_ptr<PgConnection>> Open();

  const std::string conninfo_;
  const int size_;

  std::mutex mutex_;
  std::condition_variable freed_;
  int leased_ = 0;

  // Connections opened in an older generation than generation_ predate a
  // connection loss and are presumed dead.
  struct Idle {
    std::unique_ptr<PgConnection> conn;
    std::uint64_t generation;
  };
  std::vector<Idle> idle_;
  std::uint64_t generation_ = 0;

  // Backoff after a failed connection attempt.
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_ = kFirstBackoff;
  std::string last_error_;
  bool failing_ = false;
};

}  // namespace cmfd::pg
