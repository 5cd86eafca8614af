#include "util/worker_pool.h"

namespace cmfd {

WorkerPool::WorkerPool(int threads) {
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  work_available_.notify_one();
}

bool WorkerPool::Stop(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto idle = [this] { return tasks_.empty() && running_ == 0; };
  bool drained = true;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    // wait_until() with the maximum time point overflows inside some
    // standard libraries, so an unbounded wait uses wait().
    idle_.wait(lock, idle);
  } else {
    drained = idle_.wait_until(lock, deadline, idle);
  }
  stopping_ = true;
  lock.unlock();
  work_available_.notify_all();

  for (std::thread& thread : threads_) {
    if (!thread.joinable()) continue;
    if (drained) {
      thread.join();
    } else {
      thread.detach();
    }
  }
  threads_.clear();
  return drained;
}

std::size_t WorkerPool::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tasks_.size() + running_;
}

void WorkerPool::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_available_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and nothing left to run

    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    lock.unlock();

    task();

    lock.lock();
    --running_;
    if (tasks_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace cmfd
