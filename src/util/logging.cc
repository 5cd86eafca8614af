#include "util/logging.h"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace cmfd {

Status SetUpLogging(const std::string& file, const std::string& level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str() maps every unknown name to "off", so "off" is checked by name.
  if (parsed == spdlog::level::off && level != "off") {
    return Status::Invalid("invalid log level \"" + level +
                           "\", must be one of trace, debug, info, warn, error, critical, off");
  }

  spdlog::sink_ptr sink;
  try {
    if (file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
    }
  } catch (const spdlog::spdlog_ex& error) {
    return Status::Invalid("cannot open log file \"" + file + "\": " + error.what());
  }

  // A full queue makes the caller wait rather than drop lines: the access
  // log is a record, not a sample.
  constexpr std::size_t kQueueSize = 8192;
  spdlog::init_thread_pool(kQueueSize, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "cmfd", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(parsed);
  // Flushing every message lets an operator, or a test, read the file while
  // the server runs; the background thread pays for it, not the request.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

void ShutDownLogging() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  spdlog::shutdown();
}

}  // namespace cmfd
