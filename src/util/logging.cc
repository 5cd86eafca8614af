#include "util/logging.h"

#include <fcntl.h>
#include <spdlog/async.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace cmfd {

namespace {

// Writes log lines to a file descriptor from the async logger's thread. It
// writes whenever that thread's queue is empty, so a quiet server's lines
// appear at once. Under load, one write() then carries many lines instead of
// one system call per access-log line.
class BatchingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BatchingSink(int fd, bool owns_fd, std::shared_ptr<spdlog::details::thread_pool> queue)
      : fd_(fd), owns_fd_(owns_fd), queue_(std::move(queue)) {}

  ~BatchingSink() override {
    WriteOut();
    if (owns_fd_) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t line;
    formatter_->format(message, line);
    pending_.append(line.data(), line.size());
    if (pending_.size() >= kMaxPending || queue_->queue_size() == 0) WriteOut();
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
  std::shared_ptr<spdlog::details::thread_pool> queue_;
  std::string pending_;
};

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

  // A full queue makes the caller wait rather than drop lines: the access
  // log is a record, not a sample.
  constexpr std::size_t kQueueSize = 8192;
  spdlog::init_thread_pool(kQueueSize, 1);
  auto sink = std::make_shared<BatchingSink>(fd, !file.empty(), spdlog::thread_pool());
  auto logger = std::make_shared<spdlog::async_logger>(
      "cmfd", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(parsed);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

void ShutDownLogging() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  spdlog::shutdown();
}

}  // namespace cmfd
