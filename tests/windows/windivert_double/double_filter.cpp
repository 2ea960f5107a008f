// WinDivertHelperCompileFilter of the test double: a small but real check of
// the WinDivert 2.2 filter grammar (doc/windivert.html, section 7), so that a
// filter Drover builds and the real DLL would reject fails here too.
//   FILTER := ARG { (and | or | && | ||) ARG }
//   ARG    := ( FILTER ) | ( FILTER ? FILTER : FILTER ) | TEST
//   TEST   := [not | !] FIELD [ [ [-]N[b] ] ] [ OP [-]VALUE ]     (index: array fields only)
// `not`/`!` apply to a single test, never to a parenthesis; the ternary
// needs its parentheses. Fields are checked against the layer (the layer
// table of the documentation), macros (TCP, CONNECT, ...) too; values are
// decimal or 0x numbers, IPv4 or IPv6 literals, or macros. Errors use the
// DLL's texts, at the offending token's position.
// Not checked: that a value fits its field, array index bounds, the exact
// instruction count of the compiled object (tests are counted instead: more
// than 256 is "too long"). The object written is "@" + the filter text,
// not WinDivert's encoding; the double's WinDivertOpen accepts it.
#include <ws2tcpip.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "tests/windows/windivert_double/double_exports.hpp"

namespace {

// Layer bits: NETWORK, NETWORK_FORWARD, FLOW, SOCKET, REFLECT.
constexpr unsigned N = 1, F = 2, L = 4, S = 8, R = 16, ALL = N | F | L | S | R, PKT = N | F;

// Names by the layers that have them, as the documentation's tables list
// them; space-separated. Array fields take an index: packet[i].
struct names {
  unsigned layers;
  bool array;
  const char* list;
};

const names fields[] = {
    {ALL, false, "zero timestamp event true false"},
    {N | L | S, false, "outbound inbound loopback protocol localAddr localPort remoteAddr remotePort"},
    {PKT | L | S, false, "ip ipv6 icmp icmpv6 tcp udp"},
    {L | S, false, "endpointId parentEndpointId"},
    {L | S | R, false, "processId"},
    {R, false, "layer priority"},
    {PKT, true,
     "packet packet16 packet32 tcp.Payload tcp.Payload16 tcp.Payload32 udp.Payload udp.Payload16 "
     "udp.Payload32"},
    {PKT, false, "ifIdx subIfIdx impostor fragment random8 random16 random32 length"},
    // WINDIVERT_IPHDR, IPV6HDR, ICMPHDR, ICMPV6HDR, TCPHDR and UDPHDR.
    {PKT, false,
     "ip.HdrLength ip.TOS ip.Length ip.Id ip.DF ip.MF ip.FragOff ip.TTL ip.Protocol ip.Checksum "
     "ip.SrcAddr ip.DstAddr"},
    {PKT, false, "ipv6.TrafficClass ipv6.FlowLabel ipv6.Length ipv6.NextHdr ipv6.HopLimit ipv6.SrcAddr ipv6.DstAddr"},
    {PKT, false, "icmp.Type icmp.Code icmp.Checksum icmp.Body icmpv6.Type icmpv6.Code icmpv6.Checksum icmpv6.Body"},
    {PKT, false,
     "tcp.SrcPort tcp.DstPort tcp.SeqNum tcp.AckNum tcp.HdrLength tcp.Urg tcp.Ack tcp.Psh tcp.Rst "
     "tcp.Syn tcp.Fin tcp.Window tcp.Checksum tcp.UrgPtr tcp.PayloadLength"},
    {PKT, false, "udp.SrcPort udp.DstPort udp.Length udp.Checksum udp.PayloadLength"},
};

// Macros stand for numbers, each only at its layers.
const names macros[] = {
    {ALL, false, "TRUE FALSE TCP UDP ICMP ICMPV6"},
    {PKT, false, "PACKET"},
    {L, false, "ESTABLISHED DELETED"},
    {S, false, "BIND CONNECT LISTEN ACCEPT"},
    {S | R, false, "CLOSE"},
    {R, false, "OPEN NETWORK NETWORK_FORWARD FLOW SOCKET REFLECT"},
};

// The entry of `table` that lists `w`, or null.
template <size_t n>
const names* lookup(const names (&table)[n], const std::string& w) {
  for (const auto& t : table) {
    for (const char* p = t.list; *p;) {
      const char* e = std::strchr(p, ' ');
      size_t len = e ? static_cast<size_t>(e - p) : std::strlen(p);
      if (len == w.size() && w.compare(0, len, p, len) == 0) return &t;
      p += len + (e ? 1 : 0);
    }
  }
  return nullptr;
}

const char* const bad_token = "Filter expression contains a bad token";
const char* const bad_for_layer = "Filter expression contains a bad token for layer";
const char* const parse_error = "Filter expression parse error";
const char* const too_long = "Filter expression too long";
const char* const too_deep = "Filter expression too deep";
const char* const too_short = "Filter object buffer is too short";

enum class kind {
  end,
  open,
  close,
  sq_open,
  sq_close,
  minus,
  op_not,
  op_and,
  op_or,
  compare,
  question,
  colon,
  number,
  var,
  array_var,
  bytes,
  other
};

struct token {
  kind k;
  unsigned pos;
};

struct failure {
  const char* what;
  unsigned pos;
};

bool is_number(const std::string& w) {
  size_t n = w.size() > 1 && w.back() == 'b' ? w.size() - 1 : w.size();  // "10b": a byte index
  if (w.rfind("0x", 0) == 0)
    return w.size() > 2 && w.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
  if (n == 0 || n > 39) return false;
  for (size_t i = 0; i < n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(w[i]))) return false;
  return true;
}

bool is_address(const std::string& w) {
  unsigned char buf[16];
  if (w.find(':') != std::string::npos) return inet_pton(AF_INET6, w.c_str(), buf) == 1;
  return std::count(w.begin(), w.end(), '.') == 3 && inet_pton(AF_INET, w.c_str(), buf) == 1;
}

// The tokens of `f` for `layer_bit`, or the first bad one.
bool tokenize(const char* f, unsigned layer_bit, std::vector<token>& out, failure& err) {
  size_t i = 0, len = std::strlen(f);
  for (;;) {
    while (i < len && std::isspace(static_cast<unsigned char>(f[i]))) ++i;
    unsigned pos = static_cast<unsigned>(i);
    if (i == len) return out.push_back({kind::end, pos}), true;
    char c = f[i], d = i + 1 < len ? f[i + 1] : '\0';
    kind single = c == '('   ? kind::open
                  : c == ')' ? kind::close
                  : c == '[' ? kind::sq_open
                  : c == ']' ? kind::sq_close
                  : c == '-' ? kind::minus
                  : c == '?' ? kind::question
                             : kind::other;
    if (single != kind::other) {
      out.push_back({single, pos}), ++i;
    } else if (c == '!' || c == '=' || c == '<' || c == '>') {
      bool two = d == '=';
      out.push_back({c == '!' && !two ? kind::op_not : kind::compare, pos});
      i += two ? 2 : 1;
    } else if ((c == '&' || c == '|') && d != c) {
      return err = {bad_token, pos + 1}, false;  // the DLL points after the lone '&'
    } else if (c == '&' || c == '|') {
      out.push_back({c == '&' ? kind::op_and : kind::op_or, pos}), i += 2;
    } else if (c == ':' && d != ':') {
      out.push_back({kind::colon, pos}), ++i;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '_') {
      size_t j = i;
      while (j < len && (std::isalnum(static_cast<unsigned char>(f[j])) || f[j] == '.' || f[j] == ':' || f[j] == '_'))
        ++j;
      // "x:" before a space is a word and the ternary's colon; "::" stays.
      if (j - i >= 2 && f[j - 1] == ':' && f[j - 2] != ':') --j;
      std::string w(f + i, j - i);
      i = j;
      if (w == "and" || w == "or" || w == "not") {
        out.push_back({w == "and" ? kind::op_and : w == "or" ? kind::op_or : kind::op_not, pos});
        continue;
      }
      if (const names* fd = lookup(fields, w)) {
        if (!(fd->layers & layer_bit)) return err = {bad_for_layer, pos}, false;
        out.push_back({fd->array ? kind::array_var : kind::var, pos});
        continue;
      }
      if (const names* m = lookup(macros, w)) {
        // At another layer a macro stays a name, which no rule accepts.
        out.push_back({(m->layers & layer_bit) ? kind::number : kind::other, pos});
        continue;
      }
      if (w == "b") {
        out.push_back({kind::bytes, pos});
      } else if (is_number(w)) {
        out.push_back({kind::number, pos});
        if (w.back() == 'b' && w.rfind("0x", 0) != 0) out.push_back({kind::bytes, pos});
      } else if (is_address(w)) {
        out.push_back({kind::number, pos});
      } else {
        return err = {bad_token, pos}, false;
      }
    } else {
      return err = {bad_token, pos}, false;
    }
  }
}

struct parser {
  const std::vector<token>& t;
  size_t i = 0;
  unsigned tests = 0;
  failure err{nullptr, 0};

  kind peek() const { return t[i].k; }
  bool fail(const char* what) { return err = {what, t[i].pos}, false; }
  bool accept(kind k) { return peek() == k ? (++i, true) : false; }

  bool filter(int depth) {
    if (depth <= 0) return fail(too_deep);
    if (!arg(depth - 1)) return false;
    while (peek() == kind::op_and || peek() == kind::op_or) {
      ++i;
      if (!arg(depth - 1)) return false;
    }
    return true;
  }

  bool arg(int depth) {
    if (!accept(kind::open)) return test();
    if (!filter(depth)) return false;
    if (accept(kind::close)) return true;
    if (!accept(kind::question)) return fail(parse_error);
    if (!filter(depth)) return false;
    if (!accept(kind::colon)) return fail(parse_error);
    if (!filter(depth)) return false;
    return accept(kind::close) || fail(parse_error);
  }

  bool test() {
    accept(kind::op_not);  // then a field: `not (` is the error the real compiler reports here
    bool array = peek() == kind::array_var;
    if (!accept(kind::var) && !accept(kind::array_var)) return fail(parse_error);
    if (array) {
      if (!accept(kind::sq_open)) return fail(parse_error);
      accept(kind::minus);
      if (!accept(kind::number)) return fail(parse_error);
      accept(kind::bytes);
      if (!accept(kind::sq_close)) return fail(parse_error);
    }
    ++tests;
    if (!accept(kind::compare)) return true;  // FIELD alone: FIELD != 0
    accept(kind::minus);
    return accept(kind::number) || fail(parse_error);
  }
};

}  // namespace

extern "C" DOUBLE_EXPORT int WinDivertHelperCompileFilter(const char* filter, windivert::layer layer, char* object,
                                                          unsigned object_len, const char** error_str,
                                                          unsigned* error_pos) {
  if (!filter || layer < windivert::layer_network || layer > windivert::layer_reflect) return 0;
  const char* text = filter[0] == '@' ? filter + 1 : filter;  // an object of ours: its text again
  std::vector<token> toks;
  failure err{nullptr, 0};
  unsigned layer_bit = 1u << static_cast<unsigned>(layer);
  if (tokenize(text, layer_bit, toks, err)) {
    parser p{toks};
    if (!p.filter(1024)) {
      err = p.err;
    } else if (p.peek() != kind::end) {
      err = {parse_error, toks[p.i].pos};
    } else if (p.tests > 256) {
      err = {too_long, 0};
    } else if (object && object_len < std::strlen(text) + 2) {
      err = {too_short, 0};
    } else {
      if (object) object[0] = '@', std::memcpy(object + 1, text, std::strlen(text) + 1);
      if (error_str) *error_str = nullptr;
      if (error_pos) *error_pos = 0;
      return 1;
    }
  }
  if (error_str) *error_str = err.what;
  if (error_pos) *error_pos = err.pos;
  return 0;
}
