#pragma once
/// Lifetime totals: what the engine carried over all its runs, kept in
/// stats.json in the state directory. The pure parts only: reading,
/// adding, writing the text; app/ owns the file and the timer.
#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace drover::stats {

struct lifetime_totals {
  uint64_t bytes_in = 0;   ///< payload bytes relayed from the proxy to the apps
  uint64_t bytes_out = 0;  ///< payload bytes relayed from the apps to the proxy
  uint64_t flows = 0;      ///< relayed flows (TCP connections, UDP client sockets) opened
  uint64_t uptime_s = 0;   ///< seconds the engine ran
  bool operator==(const lifetime_totals& o) const {
    return bytes_in == o.bytes_in && bytes_out == o.bytes_out && flows == o.flows && uptime_s == o.uptime_s;
  }
};

/// Field by field; a sum past 2^64 stays at the maximum instead of
/// wrapping to a small number.
lifetime_totals operator+(const lifetime_totals& a, const lifetime_totals& b);

/// Parses stats.json. Error codes: "syntax" (not JSON, or not an object),
/// "version" (a format this build does not know), "field" (a key missing
/// or not a non-negative integer); the message names what is wrong.
result<lifetime_totals> parse(const std::string& text);

/// The file's text: {"version":1,"bytes_in":…,"bytes_out":…,"flows":…,"uptime_s":…}
/// and a newline.
std::string serialise(const lifetime_totals& t);

}  // namespace drover::stats
