// Logging set-up: one process-wide spdlog logger, used through spdlog's
// free functions (spdlog::info, ...).
#pragma once

#include <string>

#include "util/status.h"

namespace cmfd {

// Makes the default logger write to `file` (appending; empty: standard
// error) at `level`: trace, debug, info, warn, error, critical or off.
// Lines are collected in memory and written at least every 100 ms, at once
// for warnings and errors, so that a request thread rarely waits on the
// disk. Invalid for an unknown level or a file that cannot be opened.
Status SetUpLogging(const std::string& file, const std::string& level);

// Writes out every collected line and stops the background flushing. Call it
// before the process exits; lines logged later are written at exit.
void ShutDownLogging();

}  // namespace cmfd
