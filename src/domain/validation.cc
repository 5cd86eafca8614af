#include "domain/validation.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

#include "domain/json_writer.h"

namespace cmfd {

namespace {

// The 249 officially assigned ISO 3166-1 alpha-2 codes (the list of the
// iso-codes project, which follows the ISO 3166 Maintenance Agency), sorted.
constexpr std::array<std::string_view, 249> kCountryCodes = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

constexpr std::int64_t kSecondsPerDay = 86400;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// The value of exactly `count` decimal digits at the start of `text`, or -1.
int Digits(std::string_view text, std::size_t count) {
  if (text.size() < count) return -1;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!IsDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool IsLeapYear(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(std::int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date. The calendar is
// counted in 400-year eras of 146097 days, with the year starting in March
// so that the leap day is the last day of a year.
std::int64_t DaysFromCivil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;
  const std::int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// "hh:mm" of a UTC offset, in seconds; nullopt when malformed.
std::optional<std::int64_t> ParseOffset(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const int hours = Digits(text, 2);
  const int minutes = Digits(text.substr(3), 2);
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return std::nullopt;
  return hours * 3600 + minutes * 60;
}

bool IsAtomText(char c) {
  return IsAsciiLetter(c) || IsDigit(c) || IsNonAscii(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsValidLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i - 1] == '.') return false;
    } else if (!IsAtomText(local[i])) {
      return false;
    }
  }
  return true;
}

bool IsValidDomainLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return IsAsciiLetter(c) || IsDigit(c) || IsNonAscii(c) || c == '-';
  });
}

}  // namespace

std::int64_t CurrentUnixTime() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t CountCodePoints(std::string_view text) {
  // Every code point has exactly one byte that is not a continuation byte.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string ShortenForMessage(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string shortened(text.substr(0, cut));
  shortened += "...";
  return shortened;
}

std::string QuoteForMessage(std::string_view text) {
  std::string quoted;
  JsonWriter writer(quoted);
  writer.String(ShortenForMessage(text));
  return quoted;
}

std::string ToUpperAscii(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

bool IsAssignedCountryCode(std::string_view code) {
  return std::binary_search(kCountryCodes.begin(), kCountryCodes.end(), code);
}

bool IsValidEmail(std::string_view address) {
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos) return false;
  if (!IsValidLocalPart(address.substr(0, at))) return false;

  std::string_view domain = address.substr(at + 1);
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  while (true) {
    const std::size_t dot = domain.find('.');
    if (!IsValidDomainLabel(domain.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

std::optional<std::int64_t> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int year = Digits(text, 4);
  const int month = Digits(text.substr(5), 2);
  const int day = Digits(text.substr(8), 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > DaysInMonth(year, month)) return std::nullopt;
  return DaysFromCivil(year, month, day);
}

std::int64_t TodayUtc() {
  const std::int64_t now = CurrentUnixTime();
  // Floor division, so that a clock before 1970 still yields the right day.
  return now >= 0 ? now / kSecondsPerDay : -((-now + kSecondsPerDay - 1) / kSecondsPerDay);
}

std::optional<std::int64_t> ParseActivityDate(std::string_view text) {
  std::optional<std::int64_t> seconds;

  // Unix seconds as a string follow the rule of the JSON number form: a
  // signed integer, since dates before 1970 are negative.
  const std::string_view digits = !text.empty() && text.front() == '-' ? text.substr(1) : text;
  if (!digits.empty() && std::all_of(digits.begin(), digits.end(), IsDigit)) {
    seconds = ParseInt64(text);
  } else if (text.size() == 10) {
    if (const auto day = ParseDate(text)) seconds = *day * kSecondsPerDay;
  } else if (text.size() >= 19) {
    // YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm]
    const auto day = ParseDate(text.substr(0, 10));
    const char separator = text[10];
    const int hours = Digits(text.substr(11), 2);
    const int minutes = Digits(text.substr(14), 2);
    const int secs = Digits(text.substr(17), 2);
    const bool shape_ok = day && (separator == 'T' || separator == 't' || separator == ' ') &&
                          text[13] == ':' && text[16] == ':';
    if (!shape_ok || hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || secs < 0 ||
        secs > 59) {
      return std::nullopt;
    }

    std::string_view rest = text.substr(19);
    if (!rest.empty() && rest.front() == '.') {
      std::size_t digits = 1;
      while (digits < rest.size() && IsDigit(rest[digits])) ++digits;
      if (digits == 1) return std::nullopt;  // a '.' needs at least one digit
      rest.remove_prefix(digits);
    }

    std::int64_t offset = 0;
    if (rest == "Z" || rest == "z") {
      rest = {};
    } else if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
      const auto magnitude = ParseOffset(rest.substr(1));
      if (!magnitude) return std::nullopt;
      offset = rest.front() == '+' ? *magnitude : -*magnitude;
      rest = {};
    }
    if (!rest.empty()) return std::nullopt;

    seconds = *day * kSecondsPerDay + hours * 3600 + minutes * 60 + secs - offset;
  }

  if (!seconds || *seconds < kMinActivityDate || *seconds > kMaxActivityDate) return std::nullopt;
  return seconds;
}

std::optional<std::int64_t> ParseUnsignedInt64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (const char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    const int digit = c - '0';
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::int64_t> ParseInt64(std::string_view text) {
  if (text.empty() || text.front() != '-') return ParseUnsignedInt64(text);

  // Parse the magnitude as negative, so that INT64_MIN fits.
  text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  std::int64_t value = 0;
  for (const char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    const int digit = c - '0';
    if (value < (kMin + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  return value;
}

}  // namespace cmfd
