// Filter chain selection: transport, SNI (exact and wildcard), ALPN, first
// match wins; the single-chain and permissive shorthands; when a listener
// peeks at all.
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

}  // namespace
}  // namespace sluice::server
