// The RESTinio adapter. This is the only file that includes RESTinio, which
// takes long to compile; everything it can hand off lives in dispatch.cc.
#include "http/server.h"

#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "http/redact.h"
#include "util/worker_pool.h"

namespace cmfd {

namespace {

using Clock = std::chrono::steady_clock;

// RESTinio's own messages (parse errors, timeouts, resets) describe what
// clients do, not server faults, so they go to the debug level.
class RestinioLogger {
 public:
  template <typename Builder>
  void trace(Builder&& builder) { Log(spdlog::level::trace, builder); }
  template <typename Builder>
  void info(Builder&& builder) { Log(spdlog::level::debug, builder); }
  template <typename Builder>
  void warn(Builder&& builder) { Log(spdlog::level::debug, builder); }
  template <typename Builder>
  void error(Builder&& builder) { Log(spdlog::level::debug, builder); }

 private:
  template <typename Builder>
  static void Log(spdlog::level::level_enum level, Builder& builder) {
    if (spdlog::should_log(level)) spdlog::log(level, "restinio: {}", builder());
  }
};

// The work a graceful shutdown waits for: requests whose reply is not
// finished, and connections that have received part of a request (a body
// still arriving, say). Idle keep-alive connections do not count.
class DrainState {
 public:
  void RequestStarted(const asio::ip::tcp::endpoint& client) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++in_flight_;
    receiving_.erase(client);
  }

  void RequestFinished() {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
    if (draining_) changed_.notify_all();
  }

  // Bytes arrived on the connection from `client`: a request has begun or
  // continues.
  void Received(const asio::ip::tcp::endpoint& client) {
    std::lock_guard<std::mutex> lock(mutex_);
    receiving_.insert(client);
  }

  void ConnectionClosed(const asio::ip::tcp::endpoint& client) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (receiving_.erase(client) > 0 && draining_) changed_.notify_all();
  }

  void BeginDrain() {
    std::lock_guard<std::mutex> lock(mutex_);
    draining_ = true;
    changed_.notify_all();
  }

  bool draining() {
    std::lock_guard<std::mutex> lock(mutex_);
    return draining_;
  }

  // Blocks until BeginDrain() was called.
  void WaitForDrain() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return draining_; });
  }

  // Blocks until nothing is in flight or `deadline` passes; returns the
  // number of requests and partly received requests left.
  std::int64_t WaitUntilIdle(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto left = [this] { return in_flight_ + static_cast<std::int64_t>(receiving_.size()); };
    changed_.wait_until(lock, deadline, [&] { return left() == 0; });
    return left();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool draining_ = false;
  std::int64_t in_flight_ = 0;
  std::set<asio::ip::tcp::endpoint> receiving_;
};

// RESTinio creates sockets itself, so TrackedSocket reaches the state of the
// running server through this pointer; one server per process.
std::atomic<DrainState*> running_drain_state{nullptr};

// A TCP socket that reports received bytes to the DrainState, because
// RESTinio 0.6 offers no other way to learn that a request has begun to
// arrive. RESTinio takes the socket type from the traits and uses only the
// members below.
class TrackedSocket {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;

  explicit TrackedSocket(asio::io_context& context) : socket_(context) {}
  TrackedSocket(TrackedSocket&& other) noexcept
      : socket_(std::move(other.socket_)),
        client_(other.client_),
        client_known_(std::exchange(other.client_known_, false)) {}
  TrackedSocket& operator=(TrackedSocket&& other) noexcept {
    Forget();
    socket_ = std::move(other.socket_);
    client_ = other.client_;
    client_known_ = std::exchange(other.client_known_, false);
    return *this;
  }
  ~TrackedSocket() { Forget(); }

  asio::ip::tcp::socket& lowest_layer() { return socket_; }
  const asio::ip::tcp::socket& lowest_layer() const { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }
  auto remote_endpoint() const { return socket_.remote_endpoint(); }
  bool is_open() const { return socket_.is_open(); }

  template <typename... Args>
  void cancel(Args&&... args) { socket_.cancel(std::forward<Args>(args)...); }
  template <typename... Args>
  void shutdown(Args&&... args) { socket_.shutdown(std::forward<Args>(args)...); }
  template <typename... Args>
  void close(Args&&... args) {
    Forget();
    socket_.close(std::forward<Args>(args)...);
  }

  // RESTinio's connection outlives its read, because the handler keeps a
  // reference to it, and a socket with a read pending is never moved; so
  // `this` stays valid. The handler keeps its executor, the connection's
  // strand.
  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    auto executor = asio::get_associated_executor(handler, socket_.get_executor());
    socket_.async_read_some(
        buffers, asio::bind_executor(
                     executor, [this, handler = std::forward<Handler>(handler)](
                                   const asio::error_code& error, std::size_t length) mutable {
                       if (!error && length > 0) NoteReceived();
                       handler(error, length);
                     }));
  }

  template <typename... Args>
  auto async_write_some(Args&&... args) {
    return socket_.async_write_some(std::forward<Args>(args)...);
  }

 private:
  void NoteReceived() {
    DrainState* state = running_drain_state.load();
    if (state == nullptr) return;
    if (!client_known_) {
      asio::error_code error;
      client_ = socket_.remote_endpoint(error);
      if (error) return;
      client_known_ = true;
    }
    state->Received(client_);
  }

  void Forget() {
    if (!client_known_) return;
    client_known_ = false;
    if (DrainState* state = running_drain_state.load()) state->ConnectionClosed(client_);
  }

  asio::ip::tcp::socket socket_;
  asio::ip::tcp::endpoint client_;
  bool client_known_ = false;
};

// RESTinio's connection calls these two by unqualified name, so that a socket
// type can customize them; a TrackedSocket needs no TLS handshake.
template <typename Connection, typename StartRead, typename Failed>
void prepare_connection_and_start_read(TrackedSocket&, Connection&, StartRead start_read, Failed) {
  start_read();
}
inline restinio::tls_socket_t* make_tls_socket_pointer_for_state_listener(TrackedSocket&) noexcept {
  return nullptr;
}

using Traits = restinio::traits_t<restinio::asio_timer_manager_t, RestinioLogger,
                                  restinio::default_request_handler_t,
                                  restinio::default_strand_t, TrackedSocket>;
using RestinioServer = restinio::http_server_t<Traits>;
using ChunkedBuilder = restinio::response_builder_t<restinio::chunked_output_t>;

// RESTinio 0.6 closes the connection without a response when a body exceeds
// its own limit (its parser callback fails). That limit is set above ours,
// so that a body of up to 4 times our limit, and at least 8 MiB, is read and
// gets a proper 413 JSON error. A larger body is cut off. The bound matters
// because RESTinio reserves Content-Length bytes up front.
std::uint64_t TransportBodyLimit(std::uint64_t max_body_bytes) {
  return std::max<std::uint64_t>(max_body_bytes * 4, 8 * 1024 * 1024);
}

// TODO: RESTinio 0.6 never sends "100 Continue", so a client that sends
// "Expect: 100-continue" (curl does for bodies over 1 KiB) waits for its own
// timeout, one second in curl, before it sends the body.

// NOTE: RESTinio 0.6 offers no hook for requests its parser rejects, such as
// a URL over max_url_size, oversized headers, Content-Length with chunked
// Transfer-Encoding or a garbage request line. It closes the connection
// without a response, so these clients get no 400, 414 or 431.

// TODO: RESTinio 0.6 closes a connection as soon as the client shuts down its
// sending side, even while a worker still runs the request. The request is
// executed, but its reply is dropped ("write operation was not" in the access
// log). TrackedSocket could hold the end of file back until the reply is out.

// A pipelining client gets its connection closed by RESTinio when it sends
// more requests ahead than this.
constexpr std::size_t kMaxPipelinedRequests = 128;

// Writing to a slow client may take long. The handle timeout bounds both the
// time between two pieces of a streamed response and the time a worker-pool
// request may take to start its reply.
constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kHandleTimeout = std::chrono::seconds(60);

restinio::http_status_line_t StatusLine(int status) {
  std::string reason;
  switch (status) {
    case 200: reason = "OK"; break;
    case 201: reason = "Created"; break;
    case 204: reason = "No Content"; break;
    case 400: reason = "Bad Request"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 409: reason = "Conflict"; break;
    case 413: reason = "Payload Too Large"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: reason = "Status " + std::to_string(status); break;
  }
  return restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(status)}, std::move(reason)};
}

// Returns the Date header value, formatted once per second per thread.
std::string DateHeaderValue() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached_value;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_value = restinio::make_date_field_value(now);
    cached_second = now;
  }
  return cached_value;
}

// One request from its arrival to the end of its reply.
struct Exchange {
  restinio::request_handle_t handle;  // keeps the connection's request alive
  Clock::time_point start;
  std::string method;
  std::string target;  // as sent: path and query; redacted only when logged
  bool on_worker = false;
};

class HttpFront {
 public:
  HttpFront(Dispatcher& dispatcher, DrainState& drain, int workers)
      : dispatcher_(dispatcher), drain_(drain), workers_(workers) {}

  restinio::request_handling_status_t Handle(restinio::request_handle_t handle);

  WorkerPool& workers() { return workers_; }

 private:
  struct Stream {
    std::shared_ptr<Exchange> exchange;
    ChunkedBuilder builder;
    std::function<Status(std::string&, bool&)> next_chunk;
    int status = 0;
    std::uint64_t bytes = 0;
  };

  void Execute(const std::shared_ptr<Exchange>& exchange, RoutedRequest& routed);
  void Reply(const std::shared_ptr<Exchange>& exchange, Response response);
  void ReplyStreamed(const std::shared_ptr<Exchange>& exchange, Response response);
  void ReplyToHead(const std::shared_ptr<Exchange>& exchange, Response response);

  // Moves the response's headers to `builder` and adds Content-Type (unless
  // set, or the status is 204), Date, and Connection: close while draining.
  template <typename Builder>
  void AppendHeaders(Builder& builder, Response& response) {
    bool has_content_type = false;
    for (auto& [name, value] : response.headers) {
      if (restinio::impl::is_equal_caseless(name, "Content-Type")) has_content_type = true;
      builder.append_header(std::move(name), std::move(value));
    }
    if (!has_content_type && response.status != 204) {
      builder.append_header(restinio::http_field::content_type, "application/json");
    }
    builder.append_header(restinio::http_field::date, DateHeaderValue());
    if (drain_.draining()) builder.connection_close();
  }
  void ContinueStream(const std::shared_ptr<Stream>& stream);
  void ScheduleNextPiece(const std::shared_ptr<Stream>& stream);
  void Finish(const Exchange& exchange, int status, std::uint64_t bytes,
              const std::string& problem);

  Dispatcher& dispatcher_;
  DrainState& drain_;
  WorkerPool workers_;
};

restinio::request_handling_status_t HttpFront::Handle(restinio::request_handle_t handle) {
  auto exchange = std::make_shared<Exchange>();
  exchange->start = Clock::now();
  drain_.RequestStarted(handle->remote_endpoint());

  try {
    const auto& header = handle->header();
    exchange->method = header.method().c_str();
    exchange->target = std::string(header.request_target());

    RawRequest raw;
    raw.method = exchange->method;
    raw.path = std::string(header.path());
    raw.query = std::string(header.query());
    raw.api_key_header = std::string(header.get_field_or("X-API-Key", ""));
    raw.body = handle->body();
    exchange->handle = std::move(handle);

    std::variant<Response, RoutedRequest> routed = dispatcher_.Route(std::move(raw));
    if (auto* response = std::get_if<Response>(&routed)) {
      Reply(exchange, std::move(*response));
      return restinio::request_accepted();
    }

    auto request = std::make_shared<RoutedRequest>(std::move(std::get<RoutedRequest>(routed)));
    if (dispatcher_.NeedsWorker(*request)) {
      // TODO: let the committing thread send a write's response instead of
      // parking a worker per write. The handoffs cost about three context
      // switches per write, which limits writes to about 11,000/s per core.
      exchange->on_worker = true;
      workers_.Post([this, exchange, request] { Execute(exchange, *request); });
    } else {
      Execute(exchange, *request);
    }
  } catch (const std::exception& error) {
    // Reached only when building the request or posting it failed (out of
    // memory); the handler's own exceptions are caught in Dispatcher.
    spdlog::error("{} {}: cannot handle request: {}", exchange->method,
                  RequestTargetForLog(exchange->target), error.what());
    if (exchange->handle) {
      Reply(exchange, ErrorResponse(Status::Internal("internal error")));
    } else {
      Finish(*exchange, 500, 0, error.what());
      return restinio::request_rejected();
    }
  }
  return restinio::request_accepted();
}

void HttpFront::Execute(const std::shared_ptr<Exchange>& exchange, RoutedRequest& routed) {
  std::string cause;
  Response response = dispatcher_.Execute(routed, cause);
  if (!cause.empty()) {
    spdlog::error("{} {} failed with status {}: {}", exchange->method,
                  RequestTargetForLog(exchange->target), response.status, cause);
  }
  Reply(exchange, std::move(response));
}

void HttpFront::Reply(const std::shared_ptr<Exchange>& exchange, Response response) {
  if (exchange->method == "HEAD") {
    ReplyToHead(exchange, std::move(response));
    return;
  }

  if (response.next_chunk) {
    ReplyStreamed(exchange, std::move(response));
    return;
  }

  const int status = response.status;
  const std::uint64_t bytes = response.body.size();
  try {
    auto builder = exchange->handle->create_response<restinio::restinio_controlled_output_t>(
        StatusLine(status));
    AppendHeaders(builder, response);
    builder.set_body(std::move(response.body));
    builder.done([this, exchange, status, bytes](const asio::error_code& error) {
      Finish(*exchange, status, bytes, error ? error.message() : std::string());
    });
  } catch (const std::exception& error) {
    Finish(*exchange, status, 0, std::string("cannot send the response: ") + error.what());
  }
}

// A response to HEAD has the status and headers the GET response would have,
// Content-Length included, and no body, because the client would read a body
// as the start of the next response. A streamed body is produced and counted
// piece by piece to learn its length; HEAD requests run on a worker (see
// Dispatcher::NeedsWorker), so this blocks no event loop.
void HttpFront::ReplyToHead(const std::shared_ptr<Exchange>& exchange, Response response) {
  std::uint64_t length = response.body.size();
  if (response.next_chunk) {
    Status outcome;
    bool more = true;
    try {
      while (more && outcome.ok()) {
        std::string piece;
        more = false;
        outcome = response.next_chunk(piece, more);
        length += piece.size();
      }
    } catch (const std::exception& error) {
      outcome = Status::Internal(std::string("uncaught exception: ") + error.what());
    } catch (...) {
      outcome = Status::Internal("uncaught exception of a type not derived from std::exception");
    }
    if (!outcome.ok()) {
      spdlog::error("{} {}: streamed response failed after {} bytes: {}", exchange->method,
                    RequestTargetForLog(exchange->target), length, outcome.message());
      response = ErrorResponse(Status::Internal("internal error"));
      length = response.body.size();
    }
  }

  const int status = response.status;
  try {
    auto builder = exchange->handle->create_response<restinio::user_controlled_output_t>(
        StatusLine(status));
    AppendHeaders(builder, response);
    builder.set_content_length(length);
    builder.done([this, exchange, status](const asio::error_code& error) {
      Finish(*exchange, status, 0, error ? error.message() : std::string());
    });
  } catch (const std::exception& error) {
    Finish(*exchange, status, 0, std::string("cannot send the response: ") + error.what());
  }
}

void HttpFront::ReplyStreamed(const std::shared_ptr<Exchange>& exchange, Response response) {
  const int status = response.status;
  try {
    auto builder =
        exchange->handle->create_response<restinio::chunked_output_t>(StatusLine(status));
    AppendHeaders(builder, response);

    auto stream = std::make_shared<Stream>(
        Stream{exchange, std::move(builder), std::move(response.next_chunk), status, 0});
    stream->bytes = response.body.size();
    stream->builder.append_chunk(std::move(response.body));
    stream->builder.flush([this, stream](const asio::error_code& error) {
      if (error) {
        Finish(*stream->exchange, stream->status, stream->bytes, error.message());
        return;
      }
      ScheduleNextPiece(stream);
    });
  } catch (const std::exception& error) {
    Finish(*exchange, status, 0, std::string("cannot send the response: ") + error.what());
  }
}

// Runs on the event loop, in the after-write callback of the previous piece.
void HttpFront::ScheduleNextPiece(const std::shared_ptr<Stream>& stream) {
  if (stream->exchange->on_worker) {
    workers_.Post([this, stream] { ContinueStream(stream); });
  } else {
    ContinueStream(stream);
  }
}

void HttpFront::ContinueStream(const std::shared_ptr<Stream>& stream) {
  std::string piece;
  bool more = false;
  Status status;
  try {
    status = stream->next_chunk(piece, more);
  } catch (const std::exception& error) {
    status = Status::Internal(std::string("uncaught exception: ") + error.what());
  } catch (...) {
    status = Status::Internal("uncaught exception of a type not derived from std::exception");
  }

  try {
    if (!status.ok()) {
      // The status line is out already, so the only way to tell the client
      // is to break the connection. An exception thrown by an after-write
      // callback makes RESTinio close it. The chunked body then lacks its
      // last chunk, which shows the client that the response is incomplete.
      spdlog::error("{} {}: streamed response aborted after {} bytes: {}",
                    stream->exchange->method, RequestTargetForLog(stream->exchange->target),
                    stream->bytes, status.message());
      stream->builder.flush(
          [this, stream, message = status.message()](const asio::error_code& error) {
            Finish(*stream->exchange, stream->status, stream->bytes, "aborted: " + message);
            if (!error) throw std::runtime_error("streamed response aborted: " + message);
          });
      return;
    }

    stream->bytes += piece.size();
    stream->builder.append_chunk(std::move(piece));
    if (more) {
      stream->builder.flush([this, stream](const asio::error_code& error) {
        if (error) {
          Finish(*stream->exchange, stream->status, stream->bytes, error.message());
          return;
        }
        ScheduleNextPiece(stream);
      });
    } else {
      stream->builder.done([this, stream](const asio::error_code& error) {
        Finish(*stream->exchange, stream->status, stream->bytes,
               error ? error.message() : std::string());
      });
    }
  } catch (const std::exception& error) {
    Finish(*stream->exchange, stream->status, stream->bytes,
           std::string("cannot send the response: ") + error.what());
  }
}

void HttpFront::Finish(const Exchange& exchange, int status, std::uint64_t bytes,
                       const std::string& problem) {
  if (spdlog::should_log(spdlog::level::info)) {
    const double milliseconds =
        std::chrono::duration<double, std::milli>(Clock::now() - exchange.start).count();
    if (problem.empty()) {
      spdlog::info("{} {} {} {} bytes {:.3f} ms", exchange.method,
                   RequestTargetForLog(exchange.target), status, bytes, milliseconds);
    } else {
      spdlog::info("{} {} {} {} bytes {:.3f} ms ({})", exchange.method,
                   RequestTargetForLog(exchange.target), status, bytes, milliseconds, problem);
    }
  }

  drain_.RequestFinished();
}

std::string SignalName(int number) {
  switch (number) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "signal " + std::to_string(number);
  }
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::Invalid("invalid listen address \"" + std::string(text) + "\": " +
                           std::string(why) + "; expected HOST:PORT, such as 127.0.0.1:8080 or "
                           "[::1]:8080");
  };

  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("an IPv6 host must be written in brackets");
  }
  if (host.empty()) return invalid("no host");

  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("the port must be a number from 0 to 65535");
  }

  if (host != "localhost") {
    asio::error_code parse_error;
    asio::ip::make_address(std::string(host), parse_error);
    if (parse_error) return invalid("\"" + std::string(host) + "\" is not an IP address");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<ServeOutcome> RunServer(const ServerOptions& options, Dispatcher& dispatcher) {
  // The drain state and the front outlive the event loop, because
  // connections destroyed with the io_context still report to them. All live
  // on the heap so that they can be left alive when worker threads outlast
  // the drain (see kStillInUse).
  auto drain = std::make_unique<DrainState>();
  auto front = std::make_unique<HttpFront>(dispatcher, *drain, options.workers);
  auto io_context = std::make_unique<asio::io_context>();
  const int threads = std::max(1, options.threads);

  const std::string host = options.listen.host == "localhost" ? "127.0.0.1" : options.listen.host;
  std::string bound_address;
  HttpFront* handler = front.get();
  auto settings =
      restinio::on_thread_pool<Traits>(static_cast<std::size_t>(threads))
          .address(asio::ip::make_address(host))
          .port(options.listen.port)
          .request_handler([handler](restinio::request_handle_t handle) {
            return handler->Handle(std::move(handle));
          })
          .max_pipelined_requests(kMaxPipelinedRequests)
          .read_next_http_message_timelimit(kReadTimeout)
          .write_http_response_timelimit(kWriteTimeout)
          .handle_request_timeout(kHandleTimeout)
          .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                        .max_url_size(64 * 1024)
                                        .max_field_name_size(1024)
                                        .max_field_value_size(64 * 1024)
                                        .max_field_count(256)
                                        .max_body_size(
                                            TransportBodyLimit(options.max_body_bytes)))
          .socket_options_setter([](restinio::socket_options_t& socket) {
            // Without it, Nagle's algorithm and delayed ACKs hold small
            // responses back for tens of milliseconds.
            socket.set_option(asio::ip::tcp::no_delay{true});
          })
          .acceptor_post_bind_hook([&bound_address](asio::ip::tcp::acceptor& acceptor) {
            const auto endpoint = acceptor.local_endpoint();
            const auto address = endpoint.address();
            bound_address = (address.is_v6() ? "[" + address.to_string() + "]"
                                             : address.to_string()) +
                            ":" + std::to_string(endpoint.port());
          });

  running_drain_state.store(drain.get());
  auto server = std::make_unique<RestinioServer>(restinio::external_io_context(*io_context),
                                                 std::move(settings));
  try {
    server->open_sync();
  } catch (const std::exception& error) {
    server.reset();
    running_drain_state.store(nullptr);
    return Status::Unavailable("cannot listen on " + host + ":" +
                               std::to_string(options.listen.port) + ": " + error.what());
  }

  auto signals = std::make_unique<asio::signal_set>(*io_context, SIGINT, SIGTERM);
  signals->async_wait([&drain, &server](const asio::error_code& error, int number) {
    if (error) return;
    spdlog::info("received {}: no longer accepting connections, finishing requests in flight",
                 SignalName(number));
    spdlog::default_logger()->flush();
    drain->BeginDrain();
    server->close_async([] {},
                        [](std::exception_ptr failure) {
                          try {
                            std::rethrow_exception(failure);
                          } catch (const std::exception& error) {
                            spdlog::error("closing the listening socket failed: {}",
                                          error.what());
                          }
                        });
  });

  spdlog::info("cmfd {} listening on {}, database {}, {} event-loop threads, {} workers",
               CMFD_VERSION, bound_address, RedactDatabase(options.database), threads,
               options.workers);
  // Log lines are written in batches; this one is out before the first
  // request can be answered, for whoever waits for the server to be up.
  spdlog::default_logger()->flush();

  // The event loop keeps running until the drain ends, even with no socket
  // left to wait on, because a worker may still post the write of its reply.
  // Without the guard, run() returns once the listening socket and the last
  // connection are closed, and the reply of an executed request is lost.
  auto keep_running = asio::make_work_guard(*io_context);

  std::vector<std::thread> loop_threads;
  for (int i = 0; i < threads; ++i) {
    loop_threads.emplace_back([context = io_context.get()] {
      try {
        context->run();
      } catch (const std::exception& error) {
        spdlog::critical("event loop stopped by an exception: {}", error.what());
        std::terminate();
      }
    });
  }

  drain->WaitForDrain();
  const Clock::time_point deadline = Clock::now() + options.drain_timeout;
  const std::int64_t abandoned = drain->WaitUntilIdle(deadline);

  keep_running.reset();
  io_context->stop();
  for (std::thread& thread : loop_threads) thread.join();
  if (abandoned > 0) {
    spdlog::warn("{} requests were still in flight after {} ms and were abandoned", abandoned,
                 options.drain_timeout.count());
  }

  // Every worker task belongs to a request in flight, so after a complete
  // drain the pool is idle and stops at once.
  if (!front->workers().Stop(std::max(deadline, Clock::now()))) {
    spdlog::error("worker threads are still running handlers; exiting without closing the store");
    // The detached workers may still touch these objects; they stay alive
    // until the process exits.
    (void)signals.release();
    (void)server.release();
    (void)io_context.release();
    (void)front.release();
    (void)drain.release();
    return ServeOutcome::kStillInUse;
  }

  signals.reset();
  server.reset();
  io_context.reset();
  front.reset();
  running_drain_state.store(nullptr);
  drain.reset();
  spdlog::info("server stopped");
  return abandoned > 0 ? ServeOutcome::kAbandoned : ServeOutcome::kDrained;
}

}  // namespace cmfd
