#include "util/logging.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace cmfd {

namespace {

// Collects formatted lines and writes them to a file descriptor in batches:
// when 64 KiB have gathered, on flush(), and from the Flusher below. One
// write() for many access-log lines costs less than a system call, or a
// wake-up of a logging thread, per request.
class BatchingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BatchingSink(int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd) {}

  ~BatchingSink() override {
    WriteOut();
    if (owns_fd_) ::close(fd_);
  }

 protected:
  // base_sink calls both under its mutex.
  // The formatter appends to its buffer, so each line is formatted straight
  // into the batch, without a copy.
  void sink_it_(const spdlog::details::log_msg& message) override {
    formatter_->format(message, pending_);
    if (pending_.size() >= kMaxPending) WriteOut();
  }

  void flush_() override { WriteOut(); }

 private:
  static constexpr std::size_t kMaxPending = 64 * 1024;

  void WriteOut() {
    std::size_t written = 0;
    while (written < pending_.size()) {
      const ssize_t result = ::write(fd_, pending_.data() + written, pending_.size() - written);
      if (result < 0 && errno == EINTR) continue;
      if (result <= 0) break;  // nowhere to report a failing log; drop the lines
      written += static_cast<std::size_t>(result);
    }
    pending_.clear();
  }

  int fd_;
  bool owns_fd_;
  spdlog::memory_buf_t pending_;
};

// Flushes the default logger every 100 ms until stopped.
class Flusher {
 public:
  Flusher() : thread_([this] { Run(); }) {}

  ~Flusher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (auto logger = spdlog::default_logger()) logger->flush();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

std::unique_ptr<Flusher> flusher;

}  // namespace

Status SetUpLogging(const std::string& file, const std::string& level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str() maps every unknown name to "off", so "off" is checked by name.
  if (parsed == spdlog::level::off && level != "off") {
    return Status::Invalid("invalid log level \"" + level +
                           "\", must be one of trace, debug, info, warn, error, critical, off");
  }

  int fd = STDERR_FILENO;
  if (!file.empty()) {
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Invalid("cannot open log file \"" + file + "\": " + std::strerror(errno));
    }
  }

  auto logger = std::make_shared<spdlog::logger>(
      "cmfd", std::make_shared<BatchingSink>(fd, !file.empty()));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  if (!flusher) flusher = std::make_unique<Flusher>();
  return Status::Ok();
}

void ShutDownLogging() {
  flusher.reset();
  // The logger itself stays, so that a late line from another thread is
  // still written (by the sink's destructor) instead of reaching a null
  // default logger.
  if (auto logger = spdlog::default_logger()) logger->flush();
}

}  // namespace cmfd
