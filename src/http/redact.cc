#include "http/redact.h"

#include <algorithm>
#include <cctype>


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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `raw` the way the query parser does ('+' is a space, %XX a byte).
// With `after_equals` set, decoding stops at the first '=' that appears after
// decoding, and *after_equals becomes the raw offset just past it (one byte
// for "=", three for "%3D"), or npos when there is none.
std::string FormDecode(std::string_view raw, std::size_t* after_equals = nullptr) {
  std::string decoded;
  if (after_equals != nullptr) *after_equals = std::string_view::npos;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    std::size_t width = 1;
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < raw.size() && HexValue(raw[i + 1]) >= 0 &&
               HexValue(raw[i + 2]) >= 0) {
      c = static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2]));
      width = 3;
    }
    if (c == '=' && after_equals != nullptr) {
      *after_equals = i + width;
      return decoded;
    }
    decoded += c;
    i += width - 1;
  }
  return decoded;
}

// Appends `item`, one query parameter, to `out` with its value redacted
// when its name calls for it.
void AppendRedactedItem(std::string_view item, std::string& out) {
  // The split at the first decoded '=' catches "apikey%3Ds3cret"; the split
  // at the raw '=' is the one the query parser makes, and catches names that
  // hold an encoded '=' before the secret word ("a%3Db_token=s3cret").
  std::size_t cut = std::string_view::npos;
  std::size_t after_decoded_equals = 0;
  const std::string name = FormDecode(item, &after_decoded_equals);
  const std::size_t equals = item.find('=');
  if (after_decoded_equals != std::string_view::npos && IsSecretParameterName(name)) {
    cut = after_decoded_equals;
  } else if (equals != std::string_view::npos &&
             IsSecretParameterName(FormDecode(item.substr(0, equals)))) {
    cut = equals + 1;
  }

  if (cut == std::string_view::npos || cut >= item.size()) {
    out.append(item);
    return;
  }
  out.append(item.substr(0, cut));
  out.append(kRedacted);
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

bool IsSecretParameterName(std::string_view decoded_name) {
  std::string name;
  name.reserve(decoded_name.size());
  for (char c : decoded_name) {
    if (c == '-' || c == '_') continue;
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (name.size() >= 2 && name.compare(name.size() - 2, 2, "[]") == 0) name.resize(name.size() - 2);

  for (std::string_view word : {"key", "token", "secret", "password"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string RedactRequestTarget(std::string_view target) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);

  const std::size_t hash = target.find('#', question);
  const std::string_view query =
      target.substr(question + 1, hash == std::string_view::npos ? hash : hash - question - 1);

  std::string out(target.substr(0, question + 1));
  out.reserve(target.size());
  std::string_view rest = query;
  while (true) {
    // Both '&' and ';' separate parameters for some servers and frameworks,
    // so a secret after either is redacted.
    const std::size_t separator = rest.find_first_of("&;");
    AppendRedactedItem(rest.substr(0, separator), out);
    if (separator == std::string_view::npos) break;
    out += rest[separator];
    rest.remove_prefix(separator + 1);
  }

  if (hash != std::string_view::npos) out.append(target.substr(hash));
  return out;
}

std::string RequestTargetForLog(std::string_view target) {
  std::string redacted = RedactRequestTarget(target);
  if (redacted.size() <= kMaxLoggedTargetBytes) return redacted;
  redacted.resize(kMaxLoggedTargetBytes);
  redacted += "...(" + std::to_string(target.size()) + " bytes)";
  return redacted;
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
