#include "http/message.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "util/utf8.h"

namespace cmfd {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes application/x-www-form-urlencoded text: '+' is a space and %XX a
// byte. A '%' not followed by two hex digits is kept as it is, as browsers
// and PHP do, rather than failing the whole request.
std::string FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

QueryParams QueryParams::Parse(std::string_view query_string) {
  std::vector<std::pair<std::string, std::string>> items;
  while (!query_string.empty()) {
    const std::size_t end = query_string.find('&');
    const std::string_view item = query_string.substr(0, end);
    query_string.remove_prefix(end == std::string_view::npos ? query_string.size() : end + 1);
    if (item.empty()) continue;

    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      items.emplace_back(FormDecode(item), std::string());
    } else {
      items.emplace_back(FormDecode(item.substr(0, equals)), FormDecode(item.substr(equals + 1)));
    }
  }
  return QueryParams(std::move(items));
}

std::optional<std::string_view> QueryParams::Get(std::string_view name) const {
  for (const auto& [item_name, value] : items_) {
    if (item_name == name && !value.empty()) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryParams::GetAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [item_name, value] : items_) {
    if (value.empty()) continue;
    const bool plain = item_name == name;
    const bool bracketed = item_name.size() == name.size() + 2 &&
                           std::string_view(item_name).substr(0, name.size()) == name &&
                           std::string_view(item_name).substr(name.size()) == "[]";
    if (plain || bracketed) values.emplace_back(value);
  }
  return values;
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

Response ErrorResponse(const Status& status) {
  // An ok Status here is a programming error in the caller; it still gets a
  // well-formed 500 rather than an empty "errors" list.
  std::vector<std::string> messages = status.messages();
  if (messages.empty()) messages.push_back("internal error");
  const int http_status = status.ok() ? 500 : status.http_status();

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("success");
  writer.Bool(false);
  writer.Key("msg");
  writer.String(ToValidUtf8(messages.front()));
  writer.Key("errors");
  writer.StartArray();
  for (const std::string& message : messages) writer.String(ToValidUtf8(message));
  writer.EndArray();
  writer.EndObject();

  return JsonResponse(http_status, std::string(buffer.GetString(), buffer.GetSize()));
}

}  // namespace cmfd
