// The write path of the SQLite store: group commit on the one writer
// connection.
//
// Each Store write method is a body run by RunWrite. Concurrent bodies join
// one transaction (see group_commit.h), each inside its own SAVEPOINT, so a
// body that fails is rolled back to its savepoint and changes nothing while
// the others stay. One COMMIT then makes the whole group durable, which with
// synchronous=FULL in WAL mode costs one fsync of the WAL for the group
// instead of one per write. A caller gets its result only after that COMMIT
// succeeded.
#include <spdlog/spdlog.h>

#include <exception>
#include <mutex>
#include <utility>

#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// A failure that leaves no transaction open: SQLite rolls the whole
// transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR,
// SQLITE_NOMEM, ...). The members that already ran lose their work with it.
Status LostWithGroup(const Status& cause) {
  const Code code = cause.code() == Code::kUnavailable ? Code::kUnavailable : Code::kInternal;
  return Status(code, "the write was rolled back with its transaction group: " + cause.message());
}

}  // namespace

Status SqliteStore::RunWrite(const WriteBody& body) {
  WriteQueue::Member member(&body);
  write_queue_.Submit(member, [this](std::span<WriteQueue::Member*> group) {
    std::lock_guard<std::mutex> lock(write_mutex_);
    return RunGroupLocked(group);
  });
  if (member.exception) std::rethrow_exception(member.exception);
  return member.status;
}

Status SqliteStore::RunWriteLocked(const WriteBody& body) {
  WriteQueue::Member member(&body);
  WriteQueue::Member* group[] = {&member};
  RunGroupLocked(group);
  if (member.exception) std::rethrow_exception(member.exception);
  return member.status;
}

std::size_t SqliteStore::RunGroupLocked(std::span<WriteQueue::Member*> group) {
  // See sync_clock.h: the start second is published before the dates of the
  // transaction are taken, and withdrawn only after it has ended. Every
  // member of the group writes the same `now`, so each of its dates is at
  // least the published start.
  const std::int64_t now = clock_.BeginWrite();

  // Ends the transaction on every path, including an exception.
  struct EndGuard {
    SqliteStore* store;
    ~EndGuard() {
      if (store->writer_->InTransaction()) {
        Status rollback = store->writer_->Run("ROLLBACK");
        if (!rollback.ok()) {
          spdlog::error("rollback of a failed write to {} failed: {}", store->path_,
                        rollback.message());
        }
      }
      store->clock_.EndWrite();
    }
  } end_guard{this};

  Status begin = writer_->Run("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (WriteQueue::Member* member : group) member->status = begin;
    return group.size();
  }

  std::vector<std::function<void()>> after_commit;
  WriteTransaction transaction{*writer_, now, &after_commit};

  // A lone write needs no savepoint: when it fails, the whole transaction
  // rolls back.
  const bool isolate = group.size() > 1;
  std::size_t ran = 0;
  for (WriteQueue::Member* member : group) {
    ++ran;
    if (isolate) {
      Status savepoint = writer_->Run("SAVEPOINT group_member");
      if (!savepoint.ok()) {
        member->status = savepoint;
        break;
      }
    }
    const std::size_t hooks_before = after_commit.size();

    Status status;
    try {
      status = (*member->work)(transaction);
    } catch (...) {
      member->exception = std::current_exception();
      status = Status::Internal("write body threw an exception");
    }
    member->status = status;

    if (status.ok()) {
      if (isolate) member->status = writer_->Run("RELEASE group_member");
      if (member->status.ok()) continue;
    } else {
      after_commit.resize(hooks_before);
      if (!isolate) return ran;  // the guard rolls back
      if (writer_->InTransaction()) {
        Status undo = writer_->Run("ROLLBACK TO group_member");
        if (undo.ok()) undo = writer_->Run("RELEASE group_member");
        if (undo.ok()) continue;
        spdlog::error("rollback to the savepoint of a failed write to {} failed: {}", path_,
                      undo.message());
      }
    }

    // The transaction is gone or unusable. The members before this one lose
    // their work, and the members after it have not run: they stay queued
    // and form the next group.
    const Status lost = LostWithGroup(member->status.ok() ? Status::Internal("savepoint failed")
                                                          : member->status);
    for (std::size_t i = 0; i + 1 < ran; ++i) {
      if (group[i]->status.ok()) group[i]->status = lost;
    }
    return ran;
  }

  // A savepoint that could not be taken ended the loop early; its member
  // failed before running and the transaction is still sound.
  Status commit = writer_->Run("COMMIT");
  if (!commit.ok()) {
    // A member whose work failed was rolled back before and keeps its own
    // error; every other member gets the COMMIT's.
    for (std::size_t i = 0; i < ran; ++i) {
      if (group[i]->status.ok()) group[i]->status = commit;
    }
    return ran;
  }

  // Still under the write lock, so hooks of consecutive groups run in
  // commit order.
  for (const std::function<void()>& hook : after_commit) hook();
  return ran;
}

}  // namespace cmfd
