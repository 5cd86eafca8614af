#include "util/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace cmfd {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskBeforeStopReturns) {
  std::atomic<int> done{0};
  WorkerPool pool(4);
  for (int i = 0; i < 1000; ++i) pool.Post([&done] { ++done; });
  EXPECT_TRUE(pool.Stop());
  EXPECT_EQ(done.load(), 1000);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPoolTest, RunsTasksOnItsOwnThreads) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  WorkerPool pool(3);
  for (int i = 0; i < 100; ++i) {
    pool.Post([&] {
      std::lock_guard<std::mutex> lock(mutex);
      threads.insert(std::this_thread::get_id());
    });
  }
  ASSERT_TRUE(pool.Stop());
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_GE(threads.size(), 1u);
  EXPECT_LE(threads.size(), 3u);
}

TEST(WorkerPoolTest, TaskMayPostAnotherTask) {
  std::atomic<int> done{0};
  WorkerPool pool(1);
  pool.Post([&] {
    pool.Post([&done] { ++done; });
    ++done;
  });
  EXPECT_TRUE(pool.Stop());
  EXPECT_EQ(done.load(), 2);
}

TEST(WorkerPoolTest, StopWithPassedDeadlineReportsBusyPool) {
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  auto pool = std::make_unique<WorkerPool>(1);
  pool->Post([&] {
    started = true;
    while (!release) std::this_thread::yield();
  });
  while (!started) std::this_thread::yield();

  EXPECT_FALSE(pool->Stop(std::chrono::steady_clock::now()));
  // The detached thread still uses the pool, which is therefore leaked, as
  // Stop() requires.
  release = true;
  (void)pool.release();
}

TEST(WorkerPoolTest, AtLeastOneThread) {
  std::atomic<int> done{0};
  WorkerPool pool(0);
  pool.Post([&done] { ++done; });
  EXPECT_TRUE(pool.Stop());
  EXPECT_EQ(done.load(), 1);
}

}  // namespace
}  // namespace cmfd
