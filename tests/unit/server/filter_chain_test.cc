// Filter chain selection: transport, SNI (exact and wildcard), ALPN, first
// match wins; the single-chain and permissive shorthands; when a listener
// peeks at all; and, when chains match the destination, Envoy's order
// (port, then the most specific prefix, then the rest in order) and when
// the destination alone decides.
#include "proxy/server/filter_chain.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace sluice::server {
namespace {

using Transport = config::FilterChainMatch::Transport;

TEST(FilterChainTest, ServerNameMatches) {
  EXPECT_TRUE(serverNameMatches("api.example.com", "api.example.com"));
  EXPECT_FALSE(serverNameMatches("api.example.com", "example.com"));
  EXPECT_TRUE(serverNameMatches("api.example.com", "*.example.com"));
  EXPECT_TRUE(serverNameMatches("a.b.example.com", "*.example.com"));
  EXPECT_FALSE(serverNameMatches("example.com", "*.example.com"));
  EXPECT_FALSE(serverNameMatches("xexample.com", "*.example.com"));
}

TEST(FilterChainTest, FirstMatchWins) {
  ListenerChains chains;
  FilterChain sni;
  sni.match.server_names = {"*.b.example.com", "a.example.com"};
  sni.match.transport_protocol = Transport::Tls;
  FilterChain alpn;
  alpn.match.application_protocols = {"h2"};
  FilterChain tls_any;
  tls_any.match.transport_protocol = Transport::Tls;
  FilterChain raw;
  raw.match.transport_protocol = Transport::RawBuffer;
  chains.chains = {sni, alpn, tls_any, raw};

  tls::ClientHelloInfo hello;
  hello.server_name = "x.b.example.com";
  EXPECT_EQ(chains.select(true, &hello), 0);
  hello.server_name = "a.example.com";
  EXPECT_EQ(chains.select(true, &hello), 0);
  hello.server_name = "other.example.com";
  EXPECT_EQ(chains.select(true, &hello), 2);
  hello.alpn = {"http/1.1", "h2"};
  EXPECT_EQ(chains.select(true, &hello), 1);
  EXPECT_EQ(chains.select(true, nullptr), 2);  // ClientHello unreadable: no SNI, no ALPN
  EXPECT_EQ(chains.select(false, nullptr), 3);
  chains.chains.pop_back();
  EXPECT_EQ(chains.select(false, nullptr), -1);
}

std::shared_ptr<const config::Config> load(const std::string& listener_body) {
  auto r = config::loadString("listeners:\n  - name: l\n    address: 127.0.0.1:0\n" + listener_body +
                              "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n");
  EXPECT_TRUE(r.config) << r.errorText();
  return r.config;
}

TEST(FilterChainTest, ShorthandsAndWhenToPeek) {
  // Plain single chain: the fast path, no peeking.
  auto plain = load("    tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(plain);
  auto p = makeListenerChains(plain->listeners[0]);
  ASSERT_EQ(p->chains.size(), 1u);
  EXPECT_FALSE(p->inspect);
  EXPECT_EQ(p->chains[0].filters->size(), plain->listeners[0].filters.size());

  const std::string cert = "/dev/null";  // readable; contents matter only to the provider
  const std::string tls = "    tls: {certificates: [{cert_chain: " + cert + ", private_key: " + cert + "}]";
  auto strict = load(tls + "}\n    tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(strict);
  auto s = makeListenerChains(strict->listeners[0]);
  ASSERT_EQ(s->chains.size(), 1u);
  EXPECT_FALSE(s->inspect);  // the handshake refuses plaintext itself
  EXPECT_EQ(s->chains[0].match.transport_protocol, Transport::Tls);

  auto permissive = load(tls + ", mode: permissive, handshake_timeout: 3s}\n    tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(permissive);
  auto m = makeListenerChains(permissive->listeners[0]);
  ASSERT_EQ(m->chains.size(), 2u);
  EXPECT_TRUE(m->inspect);
  EXPECT_EQ(m->inspect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(m->select(true, nullptr), 0);
  EXPECT_EQ(m->select(false, nullptr), 1);
  EXPECT_EQ(m->chains[0].filters, m->chains[1].filters);

  // TLS passthrough by SNI to tcp_proxy: peeks, terminates nothing.
  auto passthrough = load(
      "    filter_chains:\n      - match: {server_names: [a.example.com], transport_protocol: tls}\n"
      "        tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(passthrough);
  auto t = makeListenerChains(passthrough->listeners[0]);
  EXPECT_TRUE(t->inspect);
}

ip::Address addr(const char* text) { return *ip::Address::parse(text); }
ip::Cidr cidr(const char* text) { return *ip::Cidr::parse(text); }

FilterChain destinationChain(std::optional<uint16_t> port, std::vector<const char*> prefixes) {
  FilterChain c;
  c.match.destination_port = port;
  for (const char* p : prefixes) c.match.prefix_ranges.push_back(cidr(p));
  return c;
}

TEST(FilterChainTest, DestinationPortThenMostSpecificPrefix) {
  ListenerChains chains;
  chains.match_destination = true;
  chains.chains = {
      destinationChain(std::nullopt, {"10.0.0.0/8"}),       // 0: any port in 10/8
      destinationChain(8080, {"10.0.0.0/8"}),               // 1
      destinationChain(8080, {"10.1.0.0/16", "192.0.2.1"}), // 2: more specific
      destinationChain(8080, {}),                           // 3: port only
      destinationChain(std::nullopt, {}),                   // 4: the unknown-destination chain
  };
  auto pick = [&](const char* to) {
    const ip::Address a = addr(to);
    return chains.select(false, nullptr, &a);
  };
  EXPECT_EQ(pick("10.1.2.3:8080"), 2);   // the /16 beats the /8, listed later or not
  EXPECT_EQ(pick("10.9.2.3:8080"), 1);
  EXPECT_EQ(pick("192.0.2.1:8080"), 2);
  EXPECT_EQ(pick("172.16.0.1:8080"), 3);  // the port, no prefix: the port-only chain
  EXPECT_EQ(pick("10.1.2.3:9090"), 0);    // no chain names 9090: those naming no port
  EXPECT_EQ(pick("172.16.0.1:9090"), 4);
  EXPECT_EQ(pick("[fd00::1]:9090"), 4);
  // The port decides before the prefix, as in Envoy: with the port-only chain
  // gone, 172.16.0.1:8080 does not fall back to the chains naming no port.
  chains.chains.erase(chains.chains.begin() + 3);
  EXPECT_EQ(pick("172.16.0.1:8080"), -1);
  // Without a destination (a listener that does not match on it): first match.
  EXPECT_EQ(chains.select(false, nullptr, nullptr), 0);
}

TEST(FilterChainTest, DualStackDestinationsMatchTheirFamilysChains) {
  // A [::] listener sees an IPv4 destination it was not redirected from as
  // ::ffff:a.b.c.d: IPv4 prefixes take it, IPv6 ones by their own bits.
  ListenerChains chains;
  chains.match_destination = true;
  chains.chains = {
      destinationChain(8080, {"fd00:79::2/128"}),  // 0
      destinationChain(8080, {"10.79.0.2/32"}),    // 1
      destinationChain(8080, {}),                  // 2: the port, any address
  };
  auto pick = [&](const char* to) {
    const ip::Address a = addr(to);
    return chains.select(false, nullptr, &a);
  };
  EXPECT_EQ(pick("[fd00:79::2]:8080"), 0);
  EXPECT_EQ(pick("10.79.0.2:8080"), 1);
  EXPECT_EQ(pick("[::ffff:10.79.0.2]:8080"), 1);
  EXPECT_EQ(pick("[::ffff:10.79.0.3]:8080"), 2);
  EXPECT_EQ(pick("[fd00:79::3]:8080"), 2);
}

TEST(FilterChainTest, DestinationNarrowsBeforeTransportAndSni) {
  ListenerChains chains;
  chains.match_destination = true;
  FilterChain mtls = destinationChain(8080, {});
  mtls.match.transport_protocol = Transport::Tls;
  mtls.terminates_tls = true;
  FilterChain plain_8080 = destinationChain(8080, {});
  plain_8080.match.transport_protocol = Transport::RawBuffer;
  FilterChain sni = destinationChain(443, {});
  sni.match.server_names = {"api.example.com"};
  FilterChain other = destinationChain(std::nullopt, {});
  chains.chains = {mtls, plain_8080, sni, other};

  const ip::Address to8080 = addr("10.0.0.2:8080");
  const ip::Address to443 = addr("10.0.0.2:443");
  EXPECT_EQ(chains.select(true, nullptr, &to8080), 0);
  EXPECT_EQ(chains.select(false, nullptr, &to8080), 1);
  tls::ClientHelloInfo hello;
  hello.server_name = "api.example.com";
  EXPECT_EQ(chains.select(true, &hello, &to443), 2);
  hello.server_name = "other.example.com";
  EXPECT_EQ(chains.select(true, &hello, &to443), -1);  // 443 is named: no fall back to `other`

  // At accept: the destination alone decides when the first chain left asks
  // nothing of the bytes; TLS then plaintext on 8080 needs a peek.
  EXPECT_EQ(chains.chooseByDestination(to8080), ListenerChains::kInspect);
  EXPECT_EQ(chains.chooseByDestination(addr("10.0.0.2:5432")), 3);
  EXPECT_EQ(chains.chooseByDestination(to443), ListenerChains::kInspect);
  // A lone TLS chain for the port: its handshake refuses plaintext itself.
  chains.chains.erase(chains.chains.begin() + 1);
  EXPECT_EQ(chains.chooseByDestination(to8080), 0);
  // No chain left for a destination: refused at accept.
  chains.chains.pop_back();
  EXPECT_EQ(chains.chooseByDestination(addr("10.0.0.2:5432")), ListenerChains::kNoChain);
}

TEST(FilterChainTest, ListenersWithoutDestinationFieldsKeepFirstMatch) {
  auto plain = load(
      "    filter_chains:\n      - match: {server_names: [a.example.com]}\n        tcp_proxy: {cluster: c}\n"
      "      - tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(makeListenerChains(plain->listeners[0])->match_destination);
  auto capture = load(
      "    use_original_dst: true\n    filter_chains:\n      - match: {destination_port: 80}\n"
      "        tcp_proxy: {cluster: c}\n      - tcp_proxy: {cluster: c}\n");
  ASSERT_TRUE(capture);
  EXPECT_TRUE(makeListenerChains(capture->listeners[0])->match_destination);
}

}  // namespace
}  // namespace sluice::server
