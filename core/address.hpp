#pragma once
/// Endpoints and CIDR ranges as plain values, parsed without OS help so the
/// same code runs on Linux, Windows and in fuzzers.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace drover {

/// An IP address (v4 in the first 4 bytes) or a host name, with a port.
struct endpoint {
  enum class kind : uint8_t { v4, v6, name };
  kind k = kind::v4;
  std::array<uint8_t, 16> ip{};
  std::string host;  ///< set for kind::name
  uint16_t port = 0;

  static endpoint v4(std::array<uint8_t, 4> a, uint16_t port);
  static endpoint v6(const std::array<uint8_t, 16>& a, uint16_t port);
  static endpoint name(std::string host, uint16_t port);
  bool is_ip() const { return k != kind::name; }
  bool operator==(const endpoint& o) const;
  bool operator!=(const endpoint& o) const { return !(*this == o); }
  /// "1.2.3.4:80", "[::1]:80" or "host:80".
  std::string to_string() const;
  /// Address alone, without port.
  std::string addr_string() const;
};

std::optional<std::array<uint8_t, 4>> parse_ipv4(const std::string& s);
std::optional<std::array<uint8_t, 16>> parse_ipv6(const std::string& s);
/// Parses an IP literal (v4 or v6, brackets allowed) into an endpoint.
std::optional<endpoint> parse_ip(const std::string& s, uint16_t port = 0);

/// An address range such as 10.0.0.0/8 or fd00::/8.
struct cidr {
  endpoint::kind k = endpoint::kind::v4;
  std::array<uint8_t, 16> net{};
  uint8_t prefix = 0;
  bool contains(const endpoint& e) const;
  std::string to_string() const;
};
std::optional<cidr> parse_cidr(const std::string& s);

}  // namespace drover
