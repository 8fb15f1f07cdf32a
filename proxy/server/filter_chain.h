#pragma once
// The runtime form of a listener's filter chains: which chain a new
// connection takes (by TLS or plaintext, SNI, ALPN), and each chain's
// filters and TLS material. Built by the main thread with the snapshot,
// immutable and shared by every worker afterwards.
//
// The single-chain form (filters as listener keys) becomes one chain; with
// `tls: {mode: permissive}` it becomes two: TLS first, then the same filters
// for plaintext.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "proxy/event/loop.h"
#include "proxy/net/filter.h"
#include "proxy/stats/named_counters.h"
#include "proxy/tls/certificate_provider.h"
#include "proxy/tls/client_hello.h"

namespace sluice::server {

struct FilterChain {
  config::FilterChainMatch match;
  // Built from the specs with the snapshot; a permissive listener's two chains share them.
  std::shared_ptr<const std::vector<net::BuiltNetworkFilter>> filters;
  std::shared_ptr<const tls::CertificateProvider> tls;               // null: plaintext chain
  event::Duration handshake_timeout{10000};
  bool terminates_tls = false;  // from the config: its handshake refuses plaintext itself
};

struct ListenerChains {
  std::vector<FilterChain> chains;
  // Peek at each new connection's first bytes before choosing: false for
  // one chain that needs neither SNI nor ALPN (then its transport decides,
  // with no extra syscall).
  bool inspect = false;
  // How long a client may take to send its first bytes when inspecting.
  event::Duration inspect_timeout{10000};
  // Some chain matches on the destination (port or prefix): chains are then
  // narrowed by destination first (see config::FilterChainMatch), and
  // whether to inspect is decided per connection (chooseByDestination).
  bool match_destination = false;

  // Counted by workers (lock-free), labelled by listener.
  std::shared_ptr<stats::NamedCounter> tls_handshakes;         // completed
  std::shared_ptr<stats::NamedCounter> tls_handshake_failed;   // failed: bad certificate, protocol, peer gone
  std::shared_ptr<stats::NamedCounter> tls_handshake_timeout;  // handshake or first bytes too slow
  std::shared_ptr<stats::NamedCounter> no_filter_chain;        // no chain matched: closed

  // The first chain that takes this connection; -1 when none. `hello` is
  // null for plaintext (and for TLS whose ClientHello could not be read).
  // `destination` (null: any) narrows the chains first when
  // match_destination is set. No allocation.
  int select(bool is_tls, const tls::ClientHelloInfo* hello, const ip::Address* destination = nullptr) const;

  // For a match_destination listener, at accept: the chain when the
  // destination alone decides it (the first chain left asks nothing of the
  // first bytes, or it is the only one left and terminates TLS), kNoChain
  // when no chain is left, kInspect when the first bytes must decide.
  static constexpr int kNoChain = -1;
  static constexpr int kInspect = -2;
  int chooseByDestination(const ip::Address& destination) const;

 private:
  // Whether chain i is among those the destination leaves (Envoy's order:
  // exact port, else no port; then the longest prefix, else no prefix).
  struct DestinationNarrowing {
    bool by_port = false;  // some chain names the destination's port
    int prefix_len = -1;   // the longest prefix of those containing it; -1: none does
  };
  DestinationNarrowing narrow(const ip::Address& destination) const;
  bool admits(const config::FilterChainMatch& m, const DestinationNarrowing& n, const ip::Address& destination) const;
};

// "api.example.com" against "api.example.com" or "*.example.com" (one or
// more labels in place of the star). `name` and `pattern` lower case.
bool serverNameMatches(std::string_view name, std::string_view pattern);

// The chains of `l` without TLS material (the caller attaches providers).
// Each filter's runtime config is built here from its spec, and counters
// are created here; with `unchanged` (the running chains of a listener whose
// config is identical) its built filters are kept instead, so their state
// (rate-limit buckets) survives a reload that did not touch the listener.
std::shared_ptr<ListenerChains> makeListenerChains(const config::ListenerConfig& l,
                                                   const ListenerChains* unchanged = nullptr);

}  // namespace sluice::server
