#pragma once
/// Building a Windows command line from separate arguments, the inverse of
/// CommandLineToArgvW (which is how the C runtime of the started program
/// splits it again). Pure: no OS headers, testable everywhere.
#include <string>
#include <vector>

namespace drover::platform::win {

/// One argument as CommandLineToArgvW reads it back unchanged: quoted when
/// empty or holding blanks or quotes; backslashes are literal except before
/// a quote, so those (and the ones before the closing quote) are doubled.
inline std::string quote_argument(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string::npos) return arg;
  std::string out = "\"";
  size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, '\\');
  out += '"';
  return out;
}

/// The arguments (not the program name) joined with single spaces.
inline std::string join_arguments(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    out += quote_argument(a);
  }
  return out;
}

}  // namespace drover::platform::win
