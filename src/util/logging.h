// Logging set-up: one process-wide spdlog logger, used through spdlog's
// free functions (spdlog::info, ...).
#pragma once

#include <string>

#include "util/status.h"

namespace cmfd {

// Makes the default logger write to `file` (appending; empty: standard
// error) at `level`: trace, debug, info, warn, error, critical or off.
// Messages are written by a background thread, so that a request thread does
// not wait on the disk. Invalid for an unknown level or a file that cannot
// be opened.
Status SetUpLogging(const std::string& file, const std::string& level);

// Writes out every queued message and stops the background thread. Call it
// before the process exits.
void ShutDownLogging();

}  // namespace cmfd
