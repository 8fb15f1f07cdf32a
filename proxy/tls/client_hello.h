#pragma once
// A small, allocation-light reader of a TLS ClientHello, for choosing a
// listener's filter chain before any byte is consumed: the listener peeks at
// the connection's first bytes (MSG_PEEK) and asks whether they are TLS and,
// if so, which server name (SNI) and application protocols (ALPN) the client
// asks for. OpenSSL then reads the same bytes for the real handshake.
//
// Pure function over untrusted input: never reads past `data`, never
// throws, any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::tls {

struct ClientHelloInfo {
  std::string server_name;              // lower case; empty when the client sent none
  std::vector<std::string> alpn;        // in the client's order
};

enum class ClientHelloStatus {
  NeedMore,  // a TLS handshake record so far, but the ClientHello is not complete yet
  Tls,       // a complete ClientHello; `info` is filled
  NotTls,    // the first bytes are not a TLS handshake record (plaintext)
  Invalid,   // starts like TLS but is malformed (or not a ClientHello)
};

// `data` is everything received so far. The ClientHello may span several
// handshake records; a message longer than kMaxClientHello is Invalid. The
// caller bounds how much it waits for (NeedMore with a full peek buffer).
ClientHelloStatus parseClientHello(std::string_view data, ClientHelloInfo& info);

inline constexpr size_t kMaxClientHello = 16 * 1024;

}  // namespace sluice::tls
