#pragma once
// TLS clients for the integration tests: curl and openssl s_client against
// a proxy, with the shared test PKI (tests/integration/support/test_pki.h)
// generated once per test binary. Every run is bounded.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/test_pki.h"

namespace sluice::itest {

using sluice::testing::TestPki;

inline const TestPki& pki() { return TestPki::get(); }
inline std::string pkiPath(const std::string& file) { return pki().path(file); }

// GET https://HOST:PORT/PATH (HOST resolved to 127.0.0.1, sent as SNI),
// trusting the test root. `who` names a client certificate of the PKI
// ("client" = client.crt + client.key); empty sends none.
inline CurlResult curlTls(uint16_t port, const std::string& path, const std::string& who = "",
                          const std::vector<std::string>& extra = {}, const std::string& host = "localhost",
                          Millis timeout = Millis(10000)) {
  const std::string p = std::to_string(port);
  std::vector<std::string> args = {"--cacert", pkiPath("root.crt"), "--resolve", host + ":" + p + ":127.0.0.1"};
  if (!who.empty()) {
    args.insert(args.end(), {"--cert", pkiPath(who + ".crt"), "--key", pkiPath(who + ".key")});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("https://" + host + ":" + p + path);
  return curl(args, timeout);
}

struct SClientResult {
  CommandResult cmd;
  std::string subject;  // of the server's certificate: "CN = localhost"
  std::string alpn;     // negotiated; empty when none
  std::string version;  // "TLSv1.3"
  bool handshake = false;
};

// openssl s_client to 127.0.0.1:PORT with SNI `sni`, offering `alpn`
// ("h2,http/1.1") when not empty; stdin is empty, so it closes right after
// the handshake.
inline SClientResult sClient(uint16_t port, const std::string& sni, const std::string& alpn = "",
                             const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                   "-servername", sni, "-CAfile", pkiPath("root.crt")};
  if (!alpn.empty()) argv.insert(argv.end(), {"-alpn", alpn});
  argv.insert(argv.end(), extra.begin(), extra.end());
  SClientResult r;
  r.cmd = runCommand(argv, Millis(10000));
  const std::string& out = r.cmd.out;
  auto field = [&](const std::string& prefix) -> std::string {
    const size_t at = out.find(prefix);
    if (at == std::string::npos) return "";
    const size_t end = out.find('\n', at);
    return out.substr(at + prefix.size(), end == std::string::npos ? std::string::npos : end - at - prefix.size());
  };
  r.subject = field("subject=");
  r.alpn = field("ALPN protocol: ");
  // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
  if (const std::string line = field("New, "); !line.empty()) r.version = line.substr(0, line.find(','));
  r.handshake = out.find("Cipher is ") != std::string::npos && out.find("Cipher is (NONE)") == std::string::npos;
  return r;
}

}  // namespace sluice::itest
