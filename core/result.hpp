#pragma once
/// Error values for the data plane: no exceptions below start-up.
#include <string>
#include <utility>
#include <variant>

namespace drover {

/// A failure with a human-readable message; `code` is a stable machine tag.
struct error {
  std::string code;
  std::string message;
};

/// Either a value or an error (C++17 stand-in for std::expected).
template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

/// Success-or-error without a value.
struct ok_t {};
using status = result<ok_t>;
inline status ok() { return ok_t{}; }
inline error make_error(std::string code, std::string message) { return error{std::move(code), std::move(message)}; }

}  // namespace drover
