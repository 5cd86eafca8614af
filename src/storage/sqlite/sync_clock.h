// SyncClock: the one clock of a single-writer store, and the timestamps that
// give reads the sync guarantee of store.h.
//
// The guarantee: a read returns T such that every change the read did not
// see carries a date of at least T + 1. The difficulty is a write that read
// its clock before the read did but commits after the read's snapshot: its
// rows carry an older second than "now", yet the read does not see them.
//
// The protocol (all atomics sequentially consistent):
//   writer, holding the store's write lock:
//     1. s = Now(); open_write_start_ = s
//     2. now = Now()          -- every date the transaction writes is `now`
//     3. BEGIN ... COMMIT (or ROLLBACK)
//     4. open_write_start_ = +infinity
// With group commit the writer is the transaction of a whole group: its
// leader runs steps 1 and 2 once, every write of the group carries that one
// `now` (so each of its dates is >= s), and step 4 follows the group's
// COMMIT. The argument below holds for W = the group, whatever the number of
// writes in it.
//   reader, before its read transaction takes its snapshot:
//     a. n = Now()
//     b. o = open_write_start_
//     c. T = min(o, n) - 1
//
// Why it holds. Take a change the read did not see, written by writer W.
// W had not committed when the snapshot was taken, so W's step 4 comes after
// (b): had (b) read W's step 4 or anything later, W's commit would happen
// before the snapshot.
//   - If (b) read a start s, it is W's or that of a writer before W (later
//     writers start after W's step 4). So T <= s - 1, and W's dates are >= s
//     because Now() never decreases.
//   - If (b) read +infinity, W's step 1 comes after (b) in the single total
//     order of seq_cst operations (otherwise (b) would read W's start). W's
//     step 2 follows, and Now() is a maximum kept in an atomic that (a)
//     raised to n before (b), so W's dates are >= n >= T + 1.
// The order of (a) before (b) matters. A reader that loads the atomic first
// and then reads the clock can miss a writer that starts between its two
// steps, reads the clock just before the second ticks and commits after the
// snapshot: n is then one second later than that writer's date.
//
// The guarantee covers writes made through one SyncClock, that is one store
// object in one process, which is how cmfd runs (the command-line API-key
// tools write only API keys, which no read syncs).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>

namespace cmfd {

class SyncClock {
 public:
  // `source` returns Unix epoch seconds; empty means the system clock.
  explicit SyncClock(std::function<std::int64_t()> source = {});

  // The current second, never less than a value returned before: a system
  // clock that steps back (NTP) repeats the last second instead.
  std::int64_t Now();

  // Steps 1 and 2 above; returns the time to write. Call with the write lock
  // held, before the transaction begins.
  std::int64_t BeginWrite();

  // Step 4 above; call after COMMIT or ROLLBACK, still holding the lock.
  void EndWrite();

  // Steps a to c above; call before the read transaction begins.
  std::int64_t ReadTimestamp();

 private:
  static constexpr std::int64_t kNoWrite = std::numeric_limits<std::int64_t>::max();

  std::function<std::int64_t()> source_;
  std::atomic<std::int64_t> last_{std::numeric_limits<std::int64_t>::min()};
  std::atomic<std::int64_t> open_write_start_{kNoWrite};
};

}  // namespace cmfd
