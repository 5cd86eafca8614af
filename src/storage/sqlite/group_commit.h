// GroupCommitQueue: lets concurrent writers share one transaction, so that
// one COMMIT (and one fsync) acknowledges a whole group of writes.
//
// The protocol is the leader/follower queue of LevelDB's write path. Each
// writer appends a Member to the queue and sleeps until its member is done
// or reaches the front. The writer at the front is the leader: it takes the
// members queued at that moment (itself first, at most max_group), releases
// the queue lock and calls the group runner with them. Writers that arrive
// meanwhile queue behind, and the first of them leads the next group once
// the runner returns. So groups form by themselves from the writes that pile
// up while the previous group commits; there is no timer and no added delay
// for a writer that finds the queue empty.
//
// The runner does the SQL work of every member on the leader's thread and
// sets each member's status. Members are Work objects owned by the sleeping
// writers, which keeps them alive until their group has ended. A runner may
// finish only a prefix of the group (at least the leader): the rest stay at
// the front of the queue and form the next group.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace cmfd {

template <typename Work>
class GroupCommitQueue {
 public:
  // One write: its work, and its outcome once `done`.
  struct Member {
    explicit Member(Work work_in) : work(std::move(work_in)) {}

    Work work;
    Status status;
    // Set by a runner when the work threw; the writer rethrows it.
    std::exception_ptr exception;

   private:
    friend class GroupCommitQueue;
    bool done = false;  // guarded by the queue's mutex
    std::condition_variable ready;
  };

  // `max_group` >= 1 bounds the members of one group, and so the size and
  // duration of its transaction.
  explicit GroupCommitQueue(std::size_t max_group)
      : max_group_(std::max<std::size_t>(1, max_group)) {}

  GroupCommitQueue(const GroupCommitQueue&) = delete;
  GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;

  // Runs `member` as part of a group and returns when that group has ended;
  // `member.status` (and `member.exception`) then hold its outcome.
  //
  // `run_group(std::span<Member*> group)` is called on the leader's thread
  // without the queue lock, with the members in arrival order. It sets the
  // status of a prefix of them and returns the length of that prefix, at
  // least 1. When it throws, every member of the group gets an internal
  // error.
  template <typename RunGroup>
  void Submit(Member& member, RunGroup&& run_group) {
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.push_back(&member);
    member.ready.wait(lock, [&] { return member.done || queue_.front() == &member; });
    if (member.done) return;

    // The leader: the queue's front is this member until the group ends,
    // so no other writer leads meanwhile.
    const std::size_t size = std::min(queue_.size(), max_group_);
    std::vector<Member*> group(queue_.begin(),
                               queue_.begin() + static_cast<std::ptrdiff_t>(size));
    lock.unlock();

    std::size_t finished = 0;
    try {
      finished = run_group(std::span<Member*>(group));
    } catch (const std::exception& error) {
      for (Member* m : group) {
        m->status = Status::Internal(std::string("write failed: ") + error.what());
      }
      finished = group.size();
    } catch (...) {
      for (Member* m : group) {
        m->status = Status::Internal("write failed with an unknown exception");
      }
      finished = group.size();
    }
    finished = std::clamp<std::size_t>(finished, 1, group.size());

    lock.lock();
    for (std::size_t i = 0; i < finished; ++i) {
      queue_.pop_front();
      group[i]->done = true;
      // Notified under the lock: once `done` is visible and the lock free,
      // the writer may return and destroy the member, condition included.
      if (group[i] != &member) group[i]->ready.notify_one();
    }
    if (!queue_.empty()) queue_.front()->ready.notify_one();
  }

 private:
  const std::size_t max_group_;
  std::mutex mutex_;
  std::deque<Member*> queue_;  // guarded by mutex_; the front leads
};

}  // namespace cmfd
