// Status and Result<T>: errors as values (leveldb status.h / abseil StatusOr style).
//
// Every fallible public entry point returns Status or Result<T>. Exceptions are not thrown across
// the public API; the CLI maps a Status to an exit code, the Python bindings to an exception.
// Thread safety: immutable values, freely copyable.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fluxscore {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kInvalidModel = 1,     // the model document is malformed or inconsistent
    kUnsupported = 2,      // valid PMML this engine does not implement
    kIoError = 3,          // a file could not be read or written
    kDataError = 4,        // input data is malformed
    kInvalidArgument = 5,  // an API or CLI argument is wrong
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidModel(std::string msg) { return Status(Code::kInvalidModel, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status DataError(std::string msg) { return Status(Code::kDataError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Unsupported: <message>" etc.; "OK" for success.
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or an error Status. REQUIRES: ok() before value().
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace fluxscore

// Propagates a non-OK Status from an expression returning Status.
#define FLUXSCORE_RETURN_IF_ERROR(expr)         \
  do {                                          \
    ::fluxscore::Status _st = (expr);           \
    if (!_st.ok()) return _st;                  \
  } while (0)

#define FLUXSCORE_CONCAT_INNER(a, b) a##b
#define FLUXSCORE_CONCAT(a, b) FLUXSCORE_CONCAT_INNER(a, b)
// Assigns the value of a Result<T> expression to lhs, or returns its Status.
#define FLUXSCORE_ASSIGN_OR_RETURN(lhs, expr)                              \
  auto FLUXSCORE_CONCAT(_res_, __LINE__) = (expr);                         \
  if (!FLUXSCORE_CONCAT(_res_, __LINE__).ok())                             \
    return FLUXSCORE_CONCAT(_res_, __LINE__).status();                     \
  lhs = std::move(FLUXSCORE_CONCAT(_res_, __LINE__)).value()
