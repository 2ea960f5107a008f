#include "core/stats.hpp"

#include <limits>

#include <nlohmann/json.hpp>

namespace drover::stats {
namespace {

constexpr int format_version = 1;

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

}  // namespace

lifetime_totals operator+(const lifetime_totals& a, const lifetime_totals& b) {
  return {saturating_add(a.bytes_in, b.bytes_in), saturating_add(a.bytes_out, b.bytes_out),
          saturating_add(a.flows, b.flows), saturating_add(a.uptime_s, b.uptime_s)};
}

result<lifetime_totals> parse(const std::string& text) {
  // No exceptions: a damaged file is an ordinary error the caller reports.
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("syntax", "not a JSON object");
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != format_version)
    return make_error("version", "unknown format version " + (v == j.end() ? std::string("(none)") : v->dump()));
  lifetime_totals t;
  for (auto [key, field] : {std::pair<const char*, uint64_t*>{"bytes_in", &t.bytes_in},
                            {"bytes_out", &t.bytes_out},
                            {"flows", &t.flows},
                            {"uptime_s", &t.uptime_s}}) {
    auto it = j.find(key);
    if (it == j.end()) return make_error("field", std::string(key) + " is missing");
    // JSON has one number type: a negative or fractional count is damage.
    if (!it->is_number_unsigned()) return make_error("field", std::string(key) + " is not a non-negative integer");
    *field = it->get<uint64_t>();
  }
  return t;
}

std::string serialise(const lifetime_totals& t) {
  nlohmann::ordered_json j{{"version", format_version},
                           {"bytes_in", t.bytes_in},
                           {"bytes_out", t.bytes_out},
                           {"flows", t.flows},
                           {"uptime_s", t.uptime_s}};
  return j.dump() + "\n";
}

}  // namespace drover::stats
