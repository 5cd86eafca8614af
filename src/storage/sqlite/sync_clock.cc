#include "storage/sqlite/sync_clock.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace cmfd {

SyncClock::SyncClock(std::function<std::int64_t()> source) : source_(std::move(source)) {
  if (!source_) {
    source_ = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

std::int64_t SyncClock::Now() {
  std::int64_t now = source_();
  std::int64_t last = last_.load();
  // Raise last_ to `now` unless another thread got further. The result is the
  // maximum either way, so every later call returns at least this value.
  while (now > last && !last_.compare_exchange_weak(last, now)) {
  }
  return std::max(now, last);
}

std::int64_t SyncClock::BeginWrite() {
  open_write_start_.store(Now());
  return Now();
}

void SyncClock::EndWrite() { open_write_start_.store(kNoWrite); }

std::int64_t SyncClock::ReadTimestamp() {
  std::int64_t now = Now();
  std::int64_t open_start = open_write_start_.load();
  return std::min(open_start, now) - 1;
}

}  // namespace cmfd
