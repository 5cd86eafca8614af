// cmfd apikey create|list|revoke: manages the API keys that clients send in
// X-API-Key or ?apikey=. Only a key's SHA-256 hash is stored, so a key is
// shown once, when it is created.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "util/api_key.h"

namespace cmfd {

namespace {

constexpr std::size_t kMaxKeyNameLength = 100;

struct ApiKeyOptions {
  DatabaseOptions database;
  std::string name;
  bool read_only = false;
};

// Returns a problem with `name`, or "" when it is usable.
std::string CheckKeyName(const std::string& name) {
  if (name.empty()) return "invalid key name \"\": a name needs at least one character";
  if (name.size() > kMaxKeyNameLength) {
    return "invalid key name: at most " + std::to_string(kMaxKeyNameLength) +
           " characters are allowed, got " + std::to_string(name.size());
  }
  // The name appears in log lines and in 403 messages, quoted.
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F || c == '"') {
      return "invalid key name \"" + name + "\": control characters and '\"' are not allowed";
    }
  }
  return "";
}

std::string FormatUtc(std::int64_t seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

void RunCreate(const ApiKeyOptions& options) {
  const std::string problem = CheckKeyName(options.name);
  if (!problem.empty()) Fail(problem);

  Config config = LoadConfigOrFail(options.database);
  Status crypto = InitCrypto();
  if (!crypto.ok()) Fail(crypto.message());
  std::unique_ptr<Store> store = OpenStoreOrFail(config);

  const std::string key = GenerateApiKey();
  Result<ApiKey> created = store->CreateApiKey(options.name, HashApiKey(key), options.read_only);
  if (!created.ok()) Fail("cannot create API key: " + created.status().message());

  std::cout << "Created " << (options.read_only ? "read-only" : "read-write") << " API key \""
            << options.name << "\". It is shown only now; store it safely:\n"
            << key << std::endl;
}

void RunList(const ApiKeyOptions& options) {
  Config config = LoadConfigOrFail(options.database);
  std::unique_ptr<Store> store = OpenStoreOrFail(config);

  Result<std::vector<ApiKey>> keys = store->ListApiKeys();
  if (!keys.ok()) Fail("cannot list API keys: " + keys.status().message());
  if (keys->empty()) {
    std::cout << "No API keys. Create one with: cmfd apikey create NAME" << std::endl;
    return;
  }

  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "SCOPE", "CREATED (UTC)", "LAST USED (UTC)"});
  for (const ApiKey& key : keys.value()) {
    rows.push_back({key.name, key.read_only ? "read-only" : "read-write",
                    FormatUtc(key.creation_date),
                    key.last_used ? FormatUtc(*key.last_used) : "never"});
  }

  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
  std::cout.flush();
}

void RunRevoke(const ApiKeyOptions& options) {
  Config config = LoadConfigOrFail(options.database);
  std::unique_ptr<Store> store = OpenStoreOrFail(config);

  Status revoked = store->RevokeApiKey(options.name);
  if (revoked.code() == Code::kNotFound) {
    Fail("API key \"" + options.name + "\" was not found; `cmfd apikey list` shows the names");
  }
  if (!revoked.ok()) Fail("cannot revoke API key: " + revoked.message());
  std::cout << "Revoked API key \"" << options.name << "\"." << std::endl;
}

}  // namespace

void AddApiKeyCommand(CLI::App& app) {
  CLI::App* apikey = app.add_subcommand("apikey", "Create, list and revoke API keys");
  apikey->require_subcommand(1);

  auto create_options = std::make_shared<ApiKeyOptions>();
  CLI::App* create = apikey->add_subcommand(
      "create", "Create an API key and print it, alone on the last line of output");
  create->add_option("NAME", create_options->name, "a unique name for the key, such as the client")
      ->required();
  create->add_flag("--read-only", create_options->read_only,
                   "allow GET requests only (default: reads and writes)");
  AddDatabaseOptions(*create, create_options->database);
  create->callback([create_options] { RunCreate(*create_options); });

  auto list_options = std::make_shared<ApiKeyOptions>();
  CLI::App* list = apikey->add_subcommand(
      "list", "List the API keys: name, scope, creation and last use, never the key itself");
  AddDatabaseOptions(*list, list_options->database);
  list->callback([list_options] { RunList(*list_options); });

  auto revoke_options = std::make_shared<ApiKeyOptions>();
  CLI::App* revoke = apikey->add_subcommand(
      "revoke", "Delete an API key; requests with it are rejected from then on");
  revoke->add_option("NAME", revoke_options->name, "the name of the key")->required();
  AddDatabaseOptions(*revoke, revoke_options->database);
  revoke->callback([revoke_options] { RunRevoke(*revoke_options); });
}

}  // namespace cmfd
