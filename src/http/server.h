// The HTTP server: RESTinio 0.6 in front of a Dispatcher.
//
// Threads. `threads` event-loop threads accept connections, parse requests
// and run reads (GET) inline, since a store that never waits on the network
// answers them in microseconds. Writes, and every request when the store's
// calls may block, run on `workers` worker threads, which reply when done.
// A streamed response (Response::next_chunk) produces each further piece on
// the same kind of thread as its handler, and only after the previous piece
// was written, so memory stays bounded by one piece per response.
//
// Shutdown. SIGTERM or SIGINT closes the listening socket; requests already
// received run to the end of their reply (responses written meanwhile carry
// "Connection: close"), for at most `drain_timeout`. Then the event loop
// stops and RunServer returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/dispatch.h"
#include "util/status.h"

namespace cmfd {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 address, or "localhost"
  std::uint16_t port = 0;
};

// Parses "HOST:PORT", with an IPv6 host in brackets ("[::1]:8080"). Port 0
// lets the system choose one (the start-up log line shows it).
Result<ListenAddress> ParseListenAddress(std::string_view text);

struct ServerOptions {
  ListenAddress listen;
  int threads = 2;   // event-loop threads
  int workers = 32;  // worker threads, for requests that may wait on the database
  std::uint64_t max_body_bytes = 1048576;
  std::chrono::milliseconds drain_timeout{10000};
  std::string database;  // for the start-up log line only; passwords are redacted
};

enum class ServeOutcome {
  kDrained,      // every request finished; the store may be closed
  kAbandoned,    // requests outlived drain_timeout but no thread uses the store any more
  kStillInUse,   // worker threads are still running handlers: do not close the store
};

// Serves until SIGTERM or SIGINT, then drains as described above. Fails
// without serving when the address cannot be bound.
Result<ServeOutcome> RunServer(const ServerOptions& options, Dispatcher& dispatcher);

}  // namespace cmfd
