#pragma once
// OpenSSL contexts for both directions, built once from plain config and
// immutable afterwards (the main thread builds them; any worker may create
// connections from a published one concurrently).
//
// - ServerTlsContext terminates downstream TLS: one SSL_CTX per certificate,
//   chosen by the client's SNI (exact DNS SAN, then "*.domain" SAN, else the
//   first certificate); optional client certificates verified against a
//   trust bundle and allowed SPIFFE IDs; ALPN in server preference order;
//   stateless session tickets under SessionTicketKeys.
// - ClientTlsContext originates upstream TLS: SNI, verification against a CA
//   bundle, expected SANs or SPIFFE IDs, an optional client certificate.
//
// Both: TLS 1.2 and 1.3 only; TLS 1.2 limited to ECDHE key exchange with
// AEAD ciphers; no renegotiation, no compression. Build functions never
// throw: a failure returns an error naming the offending field and where its
// material came from (a file's path).
//
// Contexts are built from options plus PEM text in memory (tls_material.h),
// so certificates may come from files or from a control plane alike. The
// *TlsConfig structs are the file-based form: options plus paths, read by
// the build overloads in tls_context_files.cc.

#include <openssl/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/tls/peer_identity.h"
#include "proxy/tls/tls_material.h"

namespace sluice::tls {

enum class TlsVersion { Tls12, Tls13 };

struct CertificateFiles {
  std::string cert_chain_path;   // PEM: the leaf first, then intermediates
  std::string private_key_path;  // PEM
};

// Everything but the certificates and the trust bundle, which come as PEM
// (ServerTlsMaterial) from whichever source holds them.
struct ServerTlsOptions {
  // mTLS: a client without a valid certificate fails the handshake.
  // Requires a trust bundle.
  bool require_client_cert = false;
  // With client certificates: allowed peer SPIFFE IDs (SpiffeIdMatcher
  // patterns). Empty: any certificate that verifies.
  std::vector<std::string> verify_spiffe_ids;
  // ALPN protocols in server preference order ("h2", "http/1.1"). Empty: no
  // ALPN. A client offering none of them continues without ALPN.
  std::vector<std::string> alpn;
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  bool session_tickets = true;
};

struct ServerTlsConfig : ServerTlsOptions {
  // At least one. Chosen by SNI from each leaf's DNS SANs; the first one
  // serves clients without SNI or with an unknown name.
  std::vector<CertificateFiles> certificates;
  // Trust bundle (PEM) for client certificates. When set, a client
  // certificate is requested and, if presented, must verify.
  std::string ca_bundle_path;
};

// Everything but the client certificate and the trust bundle (see
// ClientTlsMaterial).
struct ClientTlsOptions {
  // Server name sent in SNI (not for IP literals). When neither
  // verify_subject_alt_names nor verify_spiffe_ids is set, the server
  // certificate must also be valid for this name.
  std::string sni;
  // Accept the server when any of its SANs matches one of these: DNS names
  // (the certificate may use a wildcard) or exact URIs.
  std::vector<std::string> verify_subject_alt_names;
  // Accept the server when its SPIFFE ID matches one of these patterns.
  std::vector<std::string> verify_spiffe_ids;
  std::vector<std::string> alpn;  // offered, in preference order
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
};

struct ClientTlsConfig : ClientTlsOptions {
  // Optional client certificate (mTLS upstream); both or neither.
  std::string cert_chain_path;
  std::string private_key_path;
  // Trust bundle (PEM) for the server's chain. Empty: the system store.
  std::string ca_bundle_path;
};

// What a loaded certificate is, for expiry gauges and logs.
struct CertificateInfo {
  std::string cert_chain_path;         // the chain's Pem::origin: a file's path
  std::string subject;                 // one line
  std::string issuer;                  // one line
  std::vector<std::string> dns_names;  // DNS SANs
  std::string spiffe_id;               // empty when none
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

template <class T>
struct BuildResult {
  std::shared_ptr<const T> context;  // null on failure
  std::string error;                 // set on failure
  bool ok() const { return context != nullptr; }
};

// Session ticket encryption keys: the current key seals new tickets, the
// current and the previous one open presented tickets (a ticket opened with
// the previous key is reissued under the current one). Shared by every
// worker and kept across certificate reloads, so resumption survives both.
//
// rotate() is for one thread (the main thread's timer); the ticket callback
// reads from any worker without locking (a sequence counter over atomic
// words: readers retry if they overlap a rotation, writers never wait).
class SessionTicketKeys {
 public:
  struct Key {
    uint8_t name[16];
    uint8_t aes[32];
    uint8_t hmac[32];
  };
  struct Pair {
    Key current;
    Key previous;
    bool has_previous;
  };
  // Starts with one random key.
  SessionTicketKeys();
  // Main thread: a new random current key; the old current becomes previous.
  void rotate();
  // Any thread.
  Pair load() const;
  uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kWords = (2 * sizeof(Key) + 8) / 8;
  void store(const Pair& p);
  std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> words_[kWords];
  std::atomic<uint64_t> rotations_{0};
  Pair last_{};  // writer's copy
};

namespace detail {
// Name and identity checks run in the verify callback (failing the handshake
// with an alert, not after it).
struct PeerChecks {
  std::vector<identity::SpiffeIdMatcher> spiffe_ids;
  std::vector<std::string> subject_alt_names;
};
struct SslCtxFree {
  void operator()(SSL_CTX* c) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
}  // namespace detail

class ServerTlsContext {
 public:
  // `keys` may be shared with earlier contexts (reloads keep tickets
  // valid); null creates private keys that never rotate.
  static BuildResult<ServerTlsContext> build(const ServerTlsOptions& options, const ServerTlsMaterial& material,
                                             std::shared_ptr<SessionTicketKeys> keys = nullptr);
  // Reads config's files, then as above (tls_context_files.cc).
  static BuildResult<ServerTlsContext> build(const ServerTlsConfig& config,
                                             std::shared_ptr<SessionTicketKeys> keys = nullptr);
  ~ServerTlsContext();
  ServerTlsContext(const ServerTlsContext&) = delete;
  ServerTlsContext& operator=(const ServerTlsContext&) = delete;

  // Any thread: a new SSL in accept state, or null if OpenSSL is out of
  // memory. `failure_detail`, if not null, receives why our own identity
  // checks rejected the peer; it must outlive the SSL.
  SSL* newSsl(std::string* failure_detail) const;

  // In config order; [0] is the default.
  const std::vector<CertificateInfo>& certificates() const { return infos_; }
  // The certificate a handshake presented (after SNI selection); null when
  // `ssl` was not made from this context.
  const CertificateInfo* presented(const SSL* ssl) const;
  const ServerTlsOptions& config() const { return config_; }
  // Whether client certificates are requested and verified (a trust bundle
  // is configured).
  bool verifiesClients() const { return verifies_clients_; }
  const std::shared_ptr<SessionTicketKeys>& ticketKeys() const { return ticket_keys_; }
  // The certificate index SNI `name` selects (tests, logs).
  size_t certificateFor(std::string_view name) const;

 private:
  ServerTlsContext() = default;
  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onAlpnSelect(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                          unsigned int inlen, void* arg);
  static int onTicketKey(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cctx,
                         EVP_MAC_CTX* hctx, int enc);

  ServerTlsOptions config_;
  bool verifies_clients_ = false;
  std::vector<detail::SslCtxPtr> ctxs_;
  std::vector<CertificateInfo> infos_;
  std::unordered_map<std::string, size_t> exact_names_;     // lower-case DNS SAN -> index
  std::unordered_map<std::string, size_t> wildcard_names_;  // "sluice.test" for "*.sluice.test"
  std::string alpn_;  // server preference, wire format
  detail::PeerChecks checks_;
  std::shared_ptr<SessionTicketKeys> ticket_keys_;
};

class ClientTlsContext {
 public:
  static BuildResult<ClientTlsContext> build(const ClientTlsOptions& options, const ClientTlsMaterial& material);
  // Reads config's files, then as above (tls_context_files.cc).
  static BuildResult<ClientTlsContext> build(const ClientTlsConfig& config);
  ~ClientTlsContext();
  ClientTlsContext(const ClientTlsContext&) = delete;
  ClientTlsContext& operator=(const ClientTlsContext&) = delete;

  // Any thread: a new SSL in connect state. `sni` overrides config().sni
  // when not empty (per-host names of one cluster). See ServerTlsContext
  // for `failure_detail`.
  SSL* newSsl(std::string_view sni, std::string* failure_detail) const;

  const ClientTlsOptions& config() const { return config_; }
  // The client certificate, when configured.
  const std::vector<CertificateInfo>& certificates() const { return infos_; }
  // The certificate a handshake presented (after SNI selection); null when
  // `ssl` was not made from this context.
  const CertificateInfo* presented(const SSL* ssl) const;

 private:
  ClientTlsContext() = default;
  ClientTlsOptions config_;
  detail::SslCtxPtr ctx_;
  std::vector<CertificateInfo> infos_;
  detail::PeerChecks checks_;
};

// Reads the leaf of a PEM chain (for validation outside a context).
bool readCertificateInfo(const Pem& cert_chain, CertificateInfo& out, std::string& error);
// The same from a file (tls_context_files.cc).
bool readCertificateInfo(const std::string& cert_chain_path, CertificateInfo& out, std::string& error);

}  // namespace sluice::tls
