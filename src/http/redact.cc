#include "http/redact.h"

#include <algorithm>
#include <cctype>

#include "http/message.h"

namespace cmfd {

namespace {

constexpr std::string_view kRedacted = "REDACTED";

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// True when the raw (still encoded) parameter name means "apikey". Decoding
// it the way the query parser does catches "api%4Bey" and "apikey%5B%5D".
bool IsApiKeyName(std::string_view raw_name) {
  const QueryParams decoded = QueryParams::Parse(std::string(raw_name) + "=x");
  if (decoded.items().empty()) return false;
  std::string_view name = decoded.items().front().first;
  if (name.size() > 2 && name.substr(name.size() - 2) == "[]") name.remove_suffix(2);
  return EqualsIgnoringCase(name, "apikey");
}

// Replaces the values of `password=` in `text`, where values end at one of
// `terminators`. A value that opens with a single quote runs to the closing
// quote (libpq keyword syntax, where \' escapes a quote).
std::string RedactPasswordValues(std::string_view text, std::string_view terminators) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool at_key_start = i == 0 || terminators.find(text[i - 1]) != std::string_view::npos ||
                              text[i - 1] == '?';
    const std::string_view rest = text.substr(i);
    if (at_key_start && rest.size() >= 9 && EqualsIgnoringCase(rest.substr(0, 9), "password=")) {
      out.append(rest.substr(0, 9));
      i += 9;

      std::size_t end = i;
      if (end < text.size() && text[end] == '\'') {
        ++end;
        while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
        end = std::min(end + 1, text.size());
      } else {
        while (end < text.size() && terminators.find(text[end]) == std::string_view::npos) ++end;
      }
      if (end > i) out.append(kRedacted);
      i = end;
      continue;
    }
    out += text[i];
    ++i;
  }
  return out;
}

}  // namespace

std::string RedactRequestTarget(std::string_view target) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);

  // Fast path for the access log: a query without "api" in any letter case
  // and without percent-encoding cannot name an apikey parameter.
  bool may_name_key = false;
  for (std::size_t i = question + 1; i < target.size() && !may_name_key; ++i) {
    if (target[i] == '%') may_name_key = true;
    if (i + 3 <= target.size() && EqualsIgnoringCase(target.substr(i, 3), "api")) {
      may_name_key = true;
    }
  }
  if (!may_name_key) return std::string(target);

  const std::size_t hash = target.find('#', question);
  const std::string_view query =
      target.substr(question + 1, hash == std::string_view::npos ? hash : hash - question - 1);

  std::string out(target.substr(0, question + 1));
  std::string_view rest = query;
  bool first = true;
  while (true) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;

    const std::size_t equals = item.find('=');
    if (equals != std::string_view::npos && equals + 1 < item.size() &&
        IsApiKeyName(item.substr(0, equals))) {
      out.append(item.substr(0, equals + 1));
      out.append(kRedacted);
    } else {
      out.append(item);
    }

    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }

  if (hash != std::string_view::npos) out.append(target.substr(hash));
  return out;
}

std::string RedactDatabase(std::string_view database) {
  std::string text(database);

  // URL user info: scheme://user:password@host... libpq ends the authority
  // at the first '/', so a raw '?' may be part of a password. Taking the
  // last '@' before that '/' also covers a raw '@' in the password.
  const std::size_t scheme_end = text.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t authority = scheme_end + 3;
    const std::size_t authority_end = std::min(text.find('/', authority), text.size());
    const std::size_t at = text.rfind('@', authority_end - 1);
    if (at != std::string::npos && at >= authority) {
      const std::size_t colon = text.find(':', authority);
      if (colon != std::string::npos && colon < at) {
        text.replace(colon + 1, at - colon - 1, kRedacted);
      }
    }
    return RedactPasswordValues(text, "&#");
  }

  // libpq keyword/value form: "host=db password=secret".
  return RedactPasswordValues(text, " \t\n");
}

}  // namespace cmfd
