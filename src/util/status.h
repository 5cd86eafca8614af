// Status: the one error type of cmfd.
//
// Every fallible function returns a Status (or a Result<T>, a Status plus a
// value). A Status carries a Code that decides the HTTP status of a request
// and a non-empty list of messages when it is not ok. The first message is
// the one a client sees in `msg`; all of them go into `errors`.
//
// Messages are written for the client: they name the field, the value that
// was sent and the rule it broke, e.g.
//   gender: invalid value "Male", must be one of male, female, other
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cmfd {

enum class Code {
  kOk,
  kInvalid,       // 400: the request body or query is wrong
  kForbidden,     // 403: missing, unknown or insufficient API key
  kNotFound,      // 404: an id on the path does not exist
  kConflict,      // 409: the request clashes with stored data
  kTooLarge,      // 413: the body exceeds the configured limit
  kUnavailable,   // 503: the database cannot be reached right now
  kInternal,      // 500: a server fault, never a reaction to input
};

class Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status Invalid(std::string message) { return Status(Code::kInvalid, std::move(message)); }
  static Status Forbidden(std::string message) { return Status(Code::kForbidden, std::move(message)); }
  static Status NotFound(std::string message) { return Status(Code::kNotFound, std::move(message)); }
  static Status Conflict(std::string message) { return Status(Code::kConflict, std::move(message)); }
  static Status TooLarge(std::string message) { return Status(Code::kTooLarge, std::move(message)); }
  static Status Unavailable(std::string message) { return Status(Code::kUnavailable, std::move(message)); }
  static Status Internal(std::string message) { return Status(Code::kInternal, std::move(message)); }

  Status(Code code, std::string message) : code_(code) { messages_.push_back(std::move(message)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }

  // The first message; empty when ok.
  const std::string& message() const {
    static const std::string kEmpty;
    return messages_.empty() ? kEmpty : messages_.front();
  }
  const std::vector<std::string>& messages() const { return messages_; }

  // Appends another problem of the same kind, so that validation can report
  // every bad field at once. Adding to an ok Status turns it into `code`.
  void Add(Code code, std::string message) {
    if (ok()) code_ = code;
    messages_.push_back(std::move(message));
  }

  // The HTTP status code this Status maps to (200 when ok).
  int http_status() const;

 private:
  Code code_ = Code::kOk;
  std::vector<std::string> messages_;
};

inline int Status::http_status() const {
  switch (code_) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace cmfd
