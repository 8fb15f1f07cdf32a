// The ClientHello reader on real ClientHellos (made by OpenSSL into a memory
// BIO), on every truncation of them, on fragmented records, plaintext and
// garbage.
#include "proxy/tls/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <random>
#include <string>
#include <vector>

namespace sluice::tls {
namespace {

// The bytes an OpenSSL client sends first, with this SNI and ALPN.
std::string clientHello(const std::string& sni, const std::vector<std::string>& alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_connect_state(ssl);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  std::string wire;
  for (const auto& p : alpn) {
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  if (!wire.empty())
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  SSL_do_handshake(ssl);  // wants to read: the ClientHello is in wbio
  char* data = nullptr;
  const long n = BIO_get_mem_data(wbio, &data);
  std::string out(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

// Splits a single-record ClientHello into two handshake records.
std::string fragmented(const std::string& hello, size_t first_len) {
  const std::string body = hello.substr(5);
  auto record = [&](const std::string& part) {
    std::string r = hello.substr(0, 3);
    r.push_back(static_cast<char>(part.size() >> 8));
    r.push_back(static_cast<char>(part.size() & 0xff));
    return r + part;
  };
  return record(body.substr(0, first_len)) + record(body.substr(first_len));
}

TEST(ClientHelloTest, ReadsSniAndAlpn) {
  const std::string hello = clientHello("API.Sluice.Test", {"h2", "http/1.1"});
  ClientHelloInfo info;
  ASSERT_EQ(parseClientHello(hello, info), ClientHelloStatus::Tls);
  EXPECT_EQ(info.server_name, "api.sluice.test");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHelloTest, NoSniNoAlpn) {
  ClientHelloInfo info;
  ASSERT_EQ(parseClientHello(clientHello("", {}), info), ClientHelloStatus::Tls);
  EXPECT_EQ(info.server_name, "");
  EXPECT_TRUE(info.alpn.empty());
}

TEST(ClientHelloTest, EveryTruncationNeedsMore) {
  const std::string hello = clientHello("a.example.com", {"http/1.1"});
  for (size_t n = 0; n < hello.size(); ++n) {
    ClientHelloInfo info;
    EXPECT_EQ(parseClientHello(hello.substr(0, n), info), ClientHelloStatus::NeedMore) << n;
  }
}

TEST(ClientHelloTest, FragmentedAcrossRecords) {
  const std::string hello = clientHello("b.example.com", {"http/1.1"});
  for (size_t split : {size_t{1}, size_t{3}, size_t{4}, size_t{40}, hello.size() - 6}) {
    const std::string two = fragmented(hello, split);
    ClientHelloInfo info;
    ASSERT_EQ(parseClientHello(two, info), ClientHelloStatus::Tls) << split;
    EXPECT_EQ(info.server_name, "b.example.com");
    for (size_t n = 0; n < two.size(); ++n)
      EXPECT_EQ(parseClientHello(two.substr(0, n), info), ClientHelloStatus::NeedMore) << split << " " << n;
  }
}

TEST(ClientHelloTest, PlaintextIsNotTls) {
  ClientHelloInfo info;
  EXPECT_EQ(parseClientHello("GET / HTTP/1.1\r\n", info), ClientHelloStatus::NotTls);
  EXPECT_EQ(parseClientHello("G", info), ClientHelloStatus::NotTls);
  EXPECT_EQ(parseClientHello(std::string("\x16\x01", 2), info), ClientHelloStatus::NotTls);  // not version 3.x
  EXPECT_EQ(parseClientHello("", info), ClientHelloStatus::NeedMore);
}

TEST(ClientHelloTest, GarbageIsInvalidNeverACrash) {
  ClientHelloInfo info;
  // A handshake record whose message is not a ClientHello.
  EXPECT_EQ(parseClientHello(std::string("\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9), info),
            ClientHelloStatus::Invalid);
  // An alert record after a partial handshake record.
  std::string hello = clientHello("c.example.com", {});
  std::string two = fragmented(hello, 10);
  two[5 + 10] = 21;
  EXPECT_EQ(parseClientHello(two, info), ClientHelloStatus::Invalid);
  // Lengths that point past their enclosing block.
  std::string bad = hello;
  bad[5 + 4 + 2 + 32] = static_cast<char>(0xff);  // session id length
  EXPECT_EQ(parseClientHello(bad, info), ClientHelloStatus::Invalid);
  EXPECT_TRUE(info.server_name.empty());
  // Random bytes after a plausible header: any status, no crash, bounded.
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s = hello;
    for (int k = 0; k < 4; ++k) s[5 + rng() % (s.size() - 5)] = static_cast<char>(rng());
    s.resize(5 + rng() % (s.size() - 5));
    (void)parseClientHello(s, info);
  }
}

}  // namespace
}  // namespace sluice::tls
