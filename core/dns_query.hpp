#pragma once
/// The one DNS message the health check needs: a query to send through the
/// proxy's UDP relay and a test that a datagram answers it. Any reply code
/// counts: the point is that a datagram went out and one came back.
/// Header-only so it needs no build registration; tested in socks5_test.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace drover::dns {

/// A recursive query for the A record of `name` (dot-separated labels of
/// 1..63 bytes; longer labels are cut, empty ones skipped) with id `id`.
inline std::vector<uint8_t> query_a(uint16_t id, const std::string& name) {
  // id, flags (RD: a resolver answers from its cache or asks on), QDCOUNT 1,
  // no answer, authority or additional records.
  std::vector<uint8_t> q{static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    size_t len = dot - start > 63 ? 63 : dot - start;
    if (len > 0) {
      q.push_back(static_cast<uint8_t>(len));
      q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(start + len));
    }
    start = dot + 1;
  }
  q.insert(q.end(), {0x00, 0x00, 0x01, 0x00, 0x01});  // root, QTYPE A, QCLASS IN
  return q;
}

/// True if `data` is a DNS response (QR = 1) with id `id`, whatever its
/// reply code: a late answer to an earlier probe or a stray datagram has
/// another id and is not taken for this one's.
inline bool is_answer_to(const uint8_t* data, size_t len, uint16_t id) {
  if (len < 12) return false;
  uint16_t got = static_cast<uint16_t>(data[0] << 8 | data[1]);
  return got == id && (data[2] & 0x80) != 0;
}

}  // namespace drover::dns
