// cmfd serve: runs the HTTP server until SIGTERM or SIGINT.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "handlers/handlers.h"
#include "http/dispatch.h"
#include "http/server.h"
#include "util/api_key.h"
#include "util/logging.h"

namespace cmfd {

namespace {

constexpr int kSqliteDefaultWorkers = 64;

struct ServeOptions {
  DatabaseOptions database;
  std::string listen;
  int threads = 0;
  int workers = 32;
  CLI::Option* workers_option = nullptr;
  std::string log_file;
  std::string log_level = "info";
  CLI::Option* listen_option = nullptr;
  CLI::Option* threads_option = nullptr;
  int pool_size = 0;
  CLI::Option* pool_size_option = nullptr;
  std::string durability;
  CLI::Option* durability_option = nullptr;
};

void RunServe(const ServeOptions& options) {
  Config config = LoadConfigOrFail(options.database);
  if (options.listen_option->count() > 0) config.listen = options.listen;
  if (options.threads_option->count() > 0) config.threads = options.threads;
  if (options.pool_size_option->count() > 0) config.pool_size = options.pool_size;
  if (options.durability_option->count() > 0) {
    for (Durability durability : {Durability::kFull, Durability::kNormal, Durability::kOff}) {
      if (options.durability == DurabilityName(durability)) config.durability = durability;
    }
  }

  Result<ListenAddress> listen = ParseListenAddress(config.listen);
  if (!listen.ok()) Fail(listen.status().message());

  // A log on a pipe whose reader went away must not end the server: with
  // SIGPIPE ignored, the write fails with EPIPE and the lines are dropped.
  std::signal(SIGPIPE, SIG_IGN);

  Status logging = SetUpLogging(options.log_file, options.log_level);
  if (!logging.ok()) Fail(logging.message());

  // From here on, errors go to the log as well, which may be a file.
  auto fail = [&](const std::string& message) {
    if (!options.log_file.empty()) spdlog::error("{}", message);
    ShutDownLogging();
    Fail(message);
  };

  Status crypto = InitCrypto();
  if (!crypto.ok()) fail(crypto.message());

  std::unique_ptr<Store> store;
  try {
    store = OpenStoreOrFail(config);
  } catch (const CLI::RuntimeError&) {
    ShutDownLogging();
    throw;
  }

  Router router;
  RegisterAllRoutes(router);
  Dispatcher dispatcher(router, *store, config);

  ServerOptions server_options;
  server_options.listen = listen.value();
  server_options.threads = config.threads;
  server_options.workers = options.workers;
  // A SQLite write waits for the commit of its group on its worker thread,
  // so the workers bound the size of a group. Twice the default lets a
  // group of up to 64 concurrent writes share one commit.
  if (options.workers_option->count() == 0 && !store->CallsMayBlock()) {
    server_options.workers = kSqliteDefaultWorkers;
  }
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.database = config.database;

  Result<ServeOutcome> outcome = RunServer(server_options, dispatcher);
  if (!outcome.ok()) fail(outcome.status().message());

  if (outcome.value() == ServeOutcome::kStillInUse) {
    // Worker threads still use the store, so it is neither closed nor
    // destroyed; ending the process is the only safe way out.
    ShutDownLogging();
    std::_Exit(1);
  }

  store.reset();
  spdlog::info("database closed");
  ShutDownLogging();
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve the CMF REST webservice under /webservice/cmf until SIGTERM or SIGINT");

  AddDatabaseOptions(*command, options->database);
  options->listen_option =
      command
          ->add_option("--listen", options->listen,
                       "IP address and TCP port to listen on; port 0 lets the system pick one "
                       "(default: the config file's `listen`, else 127.0.0.1:8080)")
          ->type_name("HOST:PORT");
  options->threads_option =
      command
          ->add_option("--threads", options->threads,
                       "number of event-loop threads, which accept connections and answer "
                       "reads (default: the config file's `threads`, else 2)")
          ->type_name("N")
          ->check(CLI::Range(1, 256));
  options->workers_option =
      command
          ->add_option("--workers", options->workers,
                       "number of worker threads, which run writes, and every request when the "
                       "database is PostgreSQL; concurrent SQLite writes commit together, up to "
                       "one per worker (default: 64 with SQLite, 32 with PostgreSQL)")
          ->type_name("N")
          ->check(CLI::Range(1, 1024));
  options->pool_size_option =
      command
          ->add_option("--pool-size", options->pool_size,
                       "number of database connections per process: the PostgreSQL pool, "
                       "where a request waits up to 2 s for a free connection, or the idle "
                       "SQLite readers kept open (default: the config file's [postgres] "
                       "pool_size, else 16)")
          ->type_name("N")
          ->check(CLI::Range(1, 1000));
  options->durability_option =
      command
          ->add_option("--durability", options->durability,
                       "what an acknowledged write survives, with SQLite: full syncs every "
                       "commit to disk and survives power loss, normal survives a crash of "
                       "cmfd, off leaves syncing to the operating system (default: the config "
                       "file's `durability`, else full)")
          ->type_name("LEVEL")
          ->check(CLI::IsMember({"full", "normal", "off"}));
  command
      ->add_option("--log-file", options->log_file,
                   "append log lines to this file (default: standard error)")
      ->type_name("PATH");
  command
      ->add_option("--log-level", options->log_level,
                   "lowest level logged: trace, debug, info, warn, error, critical or off; "
                   "info includes one access-log line per request (default: info)")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  command->callback([options] { RunServe(*options); });
}

}  // namespace cmfd
