// WorkerPool: a fixed set of threads that run posted tasks in FIFO order.
//
// The HTTP server runs work that may block (writes, and every request when
// the store waits on the network) here, so that the event-loop threads keep
// serving other connections meanwhile.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cmfd {

class WorkerPool {
 public:
  // Starts `threads` threads (at least one).
  explicit WorkerPool(int threads);

  // Stops and joins, as Stop() with no deadline.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. A task must not throw; one that does ends the program, as
  // an escaped exception in any thread does. Tasks posted after Stop() began
  // still run when a thread is left to run them, and are dropped otherwise.
  void Post(std::function<void()> task);

  // Lets the threads finish every queued task, then joins them. Returns false
  // when `deadline` passed first; the threads are then detached, still
  // running, and the caller must end the process without destroying the pool
  // or anything their tasks use.
  bool Stop(std::chrono::steady_clock::time_point deadline =
                std::chrono::steady_clock::time_point::max());

  // Tasks queued or running.
  std::size_t pending() const;

 private:
  void Run();

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> tasks_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cmfd
