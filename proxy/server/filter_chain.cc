#include "proxy/server/filter_chain.h"

#include <cassert>

#include <algorithm>

namespace sluice::server {

bool serverNameMatches(std::string_view name, std::string_view pattern) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  }
  return name == pattern;
}

namespace {

// The longest of `m`'s prefixes that contains `a`; -1 when none does.
int longestContaining(const config::FilterChainMatch& m, const ip::Address& a) {
  int best = -1;
  for (const auto& p : m.prefix_ranges)
    if (p.contains(a)) best = std::max(best, static_cast<int>(p.prefixLength()));
  return best;
}

bool asksNothingOfBytes(const config::FilterChainMatch& m) {
  return m.server_names.empty() && m.application_protocols.empty() &&
         m.transport_protocol == config::FilterChainMatch::Transport::Any;
}

}  // namespace

ListenerChains::DestinationNarrowing ListenerChains::narrow(const ip::Address& destination) const {
  DestinationNarrowing n;
  const uint16_t port = destination.port();
  for (const auto& c : chains)
    if (c.match.destination_port && *c.match.destination_port == port) n.by_port = true;
  for (const auto& c : chains) {
    const auto& m = c.match;
    if (m.destination_port.has_value() != n.by_port) continue;
    if (n.by_port && *m.destination_port != port) continue;
    n.prefix_len = std::max(n.prefix_len, longestContaining(m, destination));
  }
  return n;
}

bool ListenerChains::admits(const config::FilterChainMatch& m, const DestinationNarrowing& n,
                            const ip::Address& destination) const {
  if (m.destination_port.has_value() != n.by_port) return false;
  if (n.by_port && *m.destination_port != destination.port()) return false;
  if (n.prefix_len < 0) return m.prefix_ranges.empty();
  return longestContaining(m, destination) == n.prefix_len;
}

int ListenerChains::chooseByDestination(const ip::Address& destination) const {
  const DestinationNarrowing n = narrow(destination);
  int first = kNoChain;
  size_t left = 0;
  for (size_t i = 0; i < chains.size(); ++i) {
    if (!admits(chains[i].match, n, destination)) continue;
    if (first == kNoChain) first = static_cast<int>(i);
    ++left;
  }
  if (first == kNoChain) return kNoChain;
  const FilterChain& c = chains[static_cast<size_t>(first)];
  if (asksNothingOfBytes(c.match)) return first;
  // A lone TLS chain: its handshake refuses a plaintext client by itself.
  const bool lone_tls = left == 1 && c.terminates_tls && c.match.server_names.empty() &&
                        c.match.application_protocols.empty();
  return lone_tls ? first : kInspect;
}

int ListenerChains::select(bool is_tls, const tls::ClientHelloInfo* hello, const ip::Address* destination) const {
  using Transport = config::FilterChainMatch::Transport;
  DestinationNarrowing n;
  const bool narrowing = match_destination && destination != nullptr;
  if (narrowing) n = narrow(*destination);
  for (size_t i = 0; i < chains.size(); ++i) {
    const auto& m = chains[i].match;
    if (narrowing && !admits(m, n, *destination)) continue;
    if (m.transport_protocol == Transport::Tls && !is_tls) continue;
    if (m.transport_protocol == Transport::RawBuffer && is_tls) continue;
    if (!m.server_names.empty()) {
      if (hello == nullptr || hello->server_name.empty()) continue;
      const bool any = std::any_of(m.server_names.begin(), m.server_names.end(),
                                   [&](const std::string& p) { return serverNameMatches(hello->server_name, p); });
      if (!any) continue;
    }
    if (!m.application_protocols.empty()) {
      if (hello == nullptr) continue;
      const bool any = std::any_of(hello->alpn.begin(), hello->alpn.end(), [&](const std::string& offered) {
        return std::find(m.application_protocols.begin(), m.application_protocols.end(), offered) !=
               m.application_protocols.end();
      });
      if (!any) continue;
    }
    return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::shared_ptr<const std::vector<net::BuiltNetworkFilter>> buildFilters(
    const std::vector<config::NetworkFilterEntry>& entries) {
  auto out = std::make_shared<std::vector<net::BuiltNetworkFilter>>();
  for (const auto& e : entries) {
    const auto* factory = net::findNetworkFilter(e.name);
    assert(factory != nullptr && e.spec != nullptr);  // the reader of that name read it
    out->push_back({factory, factory->build(*e.spec)});
  }
  return out;
}

}  // namespace

std::shared_ptr<ListenerChains> makeListenerChains(const config::ListenerConfig& l,
                                                   const ListenerChains* unchanged) {
  using Transport = config::FilterChainMatch::Transport;
  auto out = std::make_shared<ListenerChains>();
  auto filtersOf = [&](const std::vector<config::NetworkFilterEntry>& entries, size_t chain) {
    if (unchanged != nullptr && chain < unchanged->chains.size()) return unchanged->chains[chain].filters;
    return buildFilters(entries);
  };
  if (l.filter_chains.empty()) {
    FilterChain c;
    c.filters = filtersOf(l.filters, 0);
    if (l.tls) {
      c.match.transport_protocol = Transport::Tls;
      c.terminates_tls = true;
      c.handshake_timeout = l.tls->handshake_timeout;
      out->chains.push_back(c);
      if (l.tls->mode == config::DownstreamTlsConfig::Mode::Permissive) {
        FilterChain plain;
        plain.filters = c.filters;
        plain.match.transport_protocol = Transport::RawBuffer;
        out->chains.push_back(plain);
      }
    } else {
      out->chains.push_back(c);
    }
  } else {
    for (const auto& fc : l.filter_chains) {
      FilterChain c;
      c.match = fc.match;
      c.filters = filtersOf(fc.filters, out->chains.size());
      if (fc.tls) c.handshake_timeout = fc.tls->handshake_timeout;
      c.terminates_tls = fc.tls.has_value();
      out->match_destination = out->match_destination || fc.match.hasDestination();
      out->chains.push_back(std::move(c));
    }
  }
  // One chain that asks nothing of the first bytes: its transport decides.
  // (A strict TLS listener then refuses plaintext in the handshake.)
  const auto& first = out->chains[0].match;
  const bool first_terminates_tls = l.filter_chains.empty() ? l.tls.has_value() : l.filter_chains[0].tls.has_value();
  out->inspect = out->chains.size() > 1 || !first.server_names.empty() || !first.application_protocols.empty() ||
                 (first.transport_protocol == Transport::Tls && !first_terminates_tls) ||
                 first.transport_protocol == Transport::RawBuffer;
  // The first bytes are part of the handshake: the longest TLS handshake
  // timeout bounds them (10s when no chain terminates TLS).
  event::Duration longest{0};
  auto consider = [&](const std::optional<config::DownstreamTlsConfig>& t) {
    if (t) longest = std::max<event::Duration>(longest, t->handshake_timeout);
  };
  consider(l.tls);
  for (const auto& fc : l.filter_chains) consider(fc.tls);
  out->inspect_timeout = longest.count() > 0 ? longest : event::Duration(std::chrono::seconds(10));
  const stats::Labels labels{{"listener", l.name}};
  out->tls_handshakes = stats::namedCounter("sluice_listener_downstream_cx_tls_total",
                                            "Downstream TLS handshakes completed", labels);
  out->tls_handshake_failed = stats::namedCounter("sluice_listener_downstream_cx_tls_handshake_failed_total",
                                                  "Downstream TLS handshakes that failed", labels);
  out->tls_handshake_timeout = stats::namedCounter("sluice_listener_downstream_cx_tls_handshake_timeout_total",
                                                   "Downstream connections closed by the handshake timeout", labels);
  out->no_filter_chain = stats::namedCounter("sluice_listener_downstream_cx_no_filter_chain_total",
                                             "Downstream connections closed because no filter chain matched", labels);
  return out;
}

}  // namespace sluice::server
