#include "proxy/tls/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

namespace sluice::tls {
namespace {

// TLS 1.2 only: forward-secret ECDHE key exchange with AEAD ciphers. The
// TLS 1.3 suites are all AEAD, so OpenSSL's defaults stay.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";

int serverIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}
int checksIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

// Drains OpenSSL's thread-local error queue into one line.
std::string opensslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509InfosFree {
  void operator()(STACK_OF(X509_INFO) * s) const { sk_X509_INFO_pop_free(s, X509_INFO_free); }
};

// A read-only BIO over `text` (no copy: `text` must outlive it).
std::unique_ptr<BIO, BioFree> readBio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Material that could not be fetched fails where it would have been parsed.
bool available(const Pem& pem, std::string& error) {
  if (pem.unavailable.empty()) return true;
  error = pem.label + ": " + pem.unavailable;
  return false;
}

int protoVersion(TlsVersion v) { return v == TlsVersion::Tls12 ? TLS1_2_VERSION : TLS1_3_VERSION; }

bool applyCommon(SSL_CTX* ctx, TlsVersion min, TlsVersion max, std::string& error) {
  if (SSL_CTX_set_min_proto_version(ctx, protoVersion(min)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, protoVersion(max)) != 1) {
    error = "cannot set protocol versions: " + opensslErrors();
    return false;
  }
  // IGNORE_UNEXPECTED_EOF: a peer closing TCP without close_notify is an end
  // of stream, as most HTTP clients do exactly that; message framing above
  // us (content-length, chunking) detects truncation.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The transport retries a blocked SSL_write with the same bytes, from a
  // buffer whose address may change; each call may send a part.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    error = "cannot set ciphers: " + opensslErrors();
    return false;
  }
  return true;
}

std::chrono::system_clock::time_point toTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

CertificateInfo infoOf(X509* cert, const std::string& path) {
  CertificateInfo info;
  info.cert_chain_path = path;
  if (cert == nullptr) return info;
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  info.subject = buf;
  X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof(buf));
  info.issuer = buf;
  info.not_before = toTimePoint(X509_get0_notBefore(cert));
  info.not_after = toTimePoint(X509_get0_notAfter(cert));
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      if (n->type != GEN_DNS) continue;
      std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                       static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      info.dns_names.push_back(std::move(name));
    }
    GENERAL_NAMES_free(names);
  }
  if (auto id = spiffeIdOf(cert)) info.spiffe_id = *id;
  return info;
}

// The leaf, then every following certificate as the chain sent to peers.
// Running out of PEM blocks ends the chain; a broken block fails it.
bool useChain(SSL_CTX* ctx, const std::string& text) {
  auto bio = readBio(text);
  if (!bio) return false;
  pem_password_cb* cb = SSL_CTX_get_default_passwd_cb(ctx);
  void* cb_arg = SSL_CTX_get_default_passwd_cb_userdata(ctx);
  std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, cb, cb_arg));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1 || ERR_peek_error() != 0) return false;
  if (SSL_CTX_clear_chain_certs(ctx) != 1) return false;
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, cb, cb_arg)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return false;
    }
  }
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE) return false;
  ERR_clear_error();
  return true;
}

bool useKey(SSL_CTX* ctx, const std::string& text) {
  auto bio = readBio(text);
  if (!bio) return false;
  // The context's password callback, as OpenSSL's file loader would use.
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, SSL_CTX_get_default_passwd_cb(ctx), SSL_CTX_get_default_passwd_cb_userdata(ctx)));
  return key && SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
}

bool loadCertAndKey(SSL_CTX* ctx, const CertificatePem& cert, std::string& error) {
  const Pem& chain = cert.cert_chain;
  const Pem& key = cert.private_key;
  if (!available(chain, error) || !available(key, error)) return false;
  ERR_clear_error();
  if (!useChain(ctx, chain.text)) {
    error = chain.label + ": not a PEM certificate chain: " + opensslErrors();
    return false;
  }
  const bool key_loaded = useKey(ctx, key.text);
  // OpenSSL checks the key against the certificate while loading it.
  const bool mismatch = !key_loaded && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
  if (!key_loaded && !mismatch) {
    error = key.label + ": not a usable PEM private key: " + opensslErrors();
    return false;
  }
  if (mismatch || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    error = key.label + ": does not match the certificate in '" + chain.origin + "'";
    return false;
  }
  return true;
}

// A trust bundle parsed once, then added to the X509_STORE of each SSL_CTX
// of a context (SNI may move a handshake to any of them).
class TrustBundle {
 public:
  bool parse(const Pem& ca, std::string& error) {
    if (!available(ca, error)) return false;
    ERR_clear_error();
    auto bio = readBio(ca.text);
    if (bio) items_.reset(PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr));
    size_t usable = 0;
    for (int i = 0; items_ && i < sk_X509_INFO_num(items_.get()); ++i) {
      const X509_INFO* item = sk_X509_INFO_value(items_.get(), i);
      usable += (item->x509 != nullptr) + (item->crl != nullptr);
    }
    if (!items_ || usable == 0) {
      error = ca.label + ": no usable PEM certificates: " +
              (ERR_peek_error() != 0 ? opensslErrors() : std::string("no certificate or CRL found"));
      return false;
    }
    return true;
  }

  // `announce`: also tell clients which CAs we accept (s_client prints it;
  // browsers pick a certificate by it).
  bool addTo(SSL_CTX* ctx, bool announce, std::string& error) const {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME)* names = announce ? sk_X509_NAME_new_null() : nullptr;
    bool ok = true;
    for (int i = 0; ok && i < sk_X509_INFO_num(items_.get()); ++i) {
      const X509_INFO* item = sk_X509_INFO_value(items_.get(), i);
      if (item->x509 != nullptr) {
        ok = X509_STORE_add_cert(store, item->x509) == 1;
        if (ok && names != nullptr) addName(names, X509_get_subject_name(item->x509));
      }
      if (ok && item->crl != nullptr) ok = X509_STORE_add_crl(store, item->crl) == 1;
    }
    if (!ok) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      error = "cannot add the trust bundle: " + opensslErrors();
      return false;
    }
    if (names != nullptr && sk_X509_NAME_num(names) > 0) SSL_CTX_set_client_CA_list(ctx, names);
    else sk_X509_NAME_pop_free(names, X509_NAME_free);
    return true;
  }

 private:
  // Bundles are short: a linear search keeps the list in file order.
  static void addName(STACK_OF(X509_NAME) * names, const X509_NAME* name) {
    for (int i = 0; i < sk_X509_NAME_num(names); ++i)
      if (X509_NAME_cmp(sk_X509_NAME_value(names, i), name) == 0) return;
    if (X509_NAME* copy = X509_NAME_dup(name); copy == nullptr || sk_X509_NAME_push(names, copy) == 0)
      X509_NAME_free(copy);
  }
  std::unique_ptr<STACK_OF(X509_INFO), X509InfosFree> items_;
};

bool encodeAlpn(const std::vector<std::string>& protos, std::string& out, std::string& error) {
  out.clear();
  for (const auto& p : protos) {
    if (p.empty() || p.size() > 255) {
      error = "alpn: protocol names must be 1 to 255 bytes";
      return false;
    }
    out += static_cast<char>(p.size());
    out += p;
  }
  return true;
}

bool parseMatchers(const std::vector<std::string>& patterns, std::vector<identity::SpiffeIdMatcher>& out, std::string& error) {
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string why;
    auto m = identity::SpiffeIdMatcher::parse(patterns[i], &why);
    if (!m) {
      error = "verify_spiffe_ids[" + std::to_string(i) + "] '" + patterns[i] + "': " + why;
      return false;
    }
    out.push_back(std::move(*m));
  }
  return true;
}

bool isIpLiteral(std::string_view s) {
  const std::string z(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, z.c_str(), buf) == 1 || inet_pton(AF_INET6, z.c_str(), buf) == 1;
}

// Runs inside OpenSSL's chain verification, once per certificate; our name
// and identity checks apply to the leaf (depth 0) after the chain itself
// verified, so a mismatch fails the handshake with a bad_certificate alert.
int verifyCallback(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 1;
  const auto* checks = static_cast<const detail::PeerChecks*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), checksIndex()));
  if (checks == nullptr || (checks->spiffe_ids.empty() && checks->subject_alt_names.empty())) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  std::string why;
  if (!checks->spiffe_ids.empty()) {
    const auto id = spiffeIdOf(cert);
    if (id && identity::anyMatches(checks->spiffe_ids, *id)) return 1;
    why = id ? "peer SPIFFE ID '" + *id + "' is not allowed" : "peer certificate has no SPIFFE ID";
  }
  if (!checks->subject_alt_names.empty()) {
    const std::vector<std::string> uris = uriSans(cert);
    for (const auto& want : checks->subject_alt_names) {
      if (want.find("://") != std::string::npos) {
        if (std::find(uris.begin(), uris.end(), want) != uris.end()) return 1;
      } else if (isIpLiteral(want)) {
        if (X509_check_ip_asc(cert, want.c_str(), 0) == 1) return 1;
      } else if (X509_check_host(cert, want.data(), want.size(), 0, nullptr) == 1) {
        return 1;
      }
    }
    if (!why.empty()) why += "; ";
    why += "peer certificate matches none of verify_subject_alt_names";
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  if (auto* detail = static_cast<std::string*>(SSL_get_app_data(ssl))) *detail = why;
  return 0;
}

// Sessions made under one trust configuration must not resume under another
// (a ticket would skip verifying the client against a changed bundle).
bool sessionIdContext(const ServerTlsOptions& cfg, const std::optional<Pem>& ca, unsigned char* out,
                      unsigned int& len, std::string& error) {
  std::string material = cfg.require_client_cert ? "require;" : "optional;";
  for (const auto& p : cfg.verify_spiffe_ids) material += p + ";";
  if (ca) {
    if (!available(*ca, error)) return false;
    material += ca->text;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(material.data(), material.size(), md, &md_len, EVP_sha256(), nullptr) != 1) {
    error = "cannot hash session context: " + opensslErrors();
    return false;
  }
  len = std::min<unsigned int>(md_len, SSL_MAX_SID_CTX_LENGTH);
  std::memcpy(out, md, len);
  return true;
}

}  // namespace

void detail::SslCtxFree::operator()(SSL_CTX* c) const { SSL_CTX_free(c); }

// --- SessionTicketKeys -------------------------------------------------------

namespace {
void randomKey(SessionTicketKeys::Key& k) {
  // Without randomness there is no TLS at all: an impossible state.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&k), sizeof(k)) != 1) std::abort();
}
}  // namespace

SessionTicketKeys::SessionTicketKeys() {
  static_assert(sizeof(Pair) <= sizeof(words_));
  Pair p{};
  randomKey(p.current);
  p.has_previous = false;
  for (auto& w : words_) w.store(0, std::memory_order_relaxed);
  store(p);
}

void SessionTicketKeys::rotate() {
  Pair p{};
  p.previous = last_.current;
  p.has_previous = true;
  randomKey(p.current);
  store(p);
  rotations_.fetch_add(1, std::memory_order_relaxed);
}

void SessionTicketKeys::store(const Pair& p) {
  uint64_t tmp[kWords] = {};
  std::memcpy(tmp, &p, sizeof(p));
  const uint64_t s = seq_.load(std::memory_order_relaxed);
  seq_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < kWords; ++i) words_[i].store(tmp[i], std::memory_order_relaxed);
  seq_.store(s + 2, std::memory_order_release);
  last_ = p;
}

SessionTicketKeys::Pair SessionTicketKeys::load() const {
  uint64_t tmp[kWords];
  for (;;) {
    const uint64_t s1 = seq_.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    for (size_t i = 0; i < kWords; ++i) tmp[i] = words_[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == s1) break;
  }
  Pair p;
  std::memcpy(&p, tmp, sizeof(p));
  return p;
}

// --- ServerTlsContext --------------------------------------------------------

ServerTlsContext::~ServerTlsContext() = default;

BuildResult<ServerTlsContext> ServerTlsContext::build(const ServerTlsOptions& cfg, const ServerTlsMaterial& material,
                                                      std::shared_ptr<SessionTicketKeys> keys) {
  BuildResult<ServerTlsContext> r;
  if (material.certificates.empty()) {
    r.error = "certificates: at least one certificate is required";
    return r;
  }
  if (cfg.require_client_cert && !material.trusted_ca) {
    r.error = "require_client_cert: needs ca_bundle_path (the trust bundle for client certificates)";
    return r;
  }
  if (!cfg.verify_spiffe_ids.empty() && !material.trusted_ca) {
    r.error = "verify_spiffe_ids: needs ca_bundle_path (client certificates are not requested without it)";
    return r;
  }
  if (protoVersion(cfg.min_version) > protoVersion(cfg.max_version)) {
    r.error = "min_version is above max_version";
    return r;
  }
  // Not make_shared: the SSL_CTX callbacks keep this address.
  std::shared_ptr<ServerTlsContext> c(new ServerTlsContext());
  c->config_ = cfg;
  c->verifies_clients_ = material.trusted_ca.has_value();
  c->ticket_keys_ = keys ? std::move(keys) : std::make_shared<SessionTicketKeys>();
  if (!parseMatchers(cfg.verify_spiffe_ids, c->checks_.spiffe_ids, r.error)) return r;
  if (!encodeAlpn(cfg.alpn, c->alpn_, r.error)) return r;
  unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
  unsigned int sid_len = 0;
  if (!sessionIdContext(cfg, material.trusted_ca, sid, sid_len, r.error)) return r;

  int verify_mode = SSL_VERIFY_NONE;
  if (material.trusted_ca) verify_mode = SSL_VERIFY_PEER;
  TrustBundle trust;
  if (cfg.require_client_cert) verify_mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;

  for (size_t i = 0; i < material.certificates.size(); ++i) {
    detail::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
      r.error = "SSL_CTX_new: " + opensslErrors();
      return r;
    }
    SSL_CTX* x = ctx.get();
    // Every context gets the same settings: SNI switches an SSL to another
    // one mid-handshake, and the verify store and callbacks are then read
    // from whichever is current.
    if (!applyCommon(x, cfg.min_version, cfg.max_version, r.error)) return r;
    if (!loadCertAndKey(x, material.certificates[i], r.error)) return r;
    if (material.trusted_ca) {
      // Parsed with the first certificate: its errors come after that one's.
      if (i == 0 && !trust.parse(*material.trusted_ca, r.error)) return r;
      if (!trust.addTo(x, /*announce=*/true, r.error)) return r;
    }
    SSL_CTX_set_verify(x, verify_mode, verify_mode == SSL_VERIFY_NONE ? nullptr : verifyCallback);
    // Stateless tickets only: no per-worker session cache to share or lock.
    SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(x, sid, sid_len);
    if (cfg.session_tickets) {
      SSL_CTX_set_num_tickets(x, 1);
      SSL_CTX_set_tlsext_ticket_key_evp_cb(x, &ServerTlsContext::onTicketKey);
    } else {
      SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(x, 0);
    }
    SSL_CTX_set_ex_data(x, serverIndex(), c.get());
    SSL_CTX_set_ex_data(x, checksIndex(), &c->checks_);
    SSL_CTX_set_tlsext_servername_callback(x, &ServerTlsContext::onServerName);
    SSL_CTX_set_tlsext_servername_arg(x, c.get());
    if (!c->alpn_.empty()) SSL_CTX_set_alpn_select_cb(x, &ServerTlsContext::onAlpnSelect, c.get());

    CertificateInfo info = infoOf(SSL_CTX_get0_certificate(x), material.certificates[i].cert_chain.origin);
    for (const auto& name : info.dns_names) {
      if (name.size() > 2 && name[0] == '*' && name[1] == '.') c->wildcard_names_.emplace(name.substr(2), i);
      else c->exact_names_.emplace(name, i);  // the first certificate naming it wins
    }
    c->infos_.push_back(std::move(info));
    c->ctxs_.push_back(std::move(ctx));
  }
  r.context = std::move(c);
  return r;
}

SSL* ServerTlsContext::newSsl(std::string* failure_detail) const {
  SSL* ssl = SSL_new(ctxs_[0].get());
  if (ssl == nullptr) return nullptr;
  SSL_set_accept_state(ssl);
  SSL_set_app_data(ssl, failure_detail);
  return ssl;
}

size_t ServerTlsContext::certificateFor(std::string_view name) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (auto it = exact_names_.find(lower); it != exact_names_.end()) return it->second;
  // A wildcard covers exactly one leftmost label.
  const size_t dot = lower.find('.');
  if (dot != std::string::npos && dot > 0) {
    if (auto it = wildcard_names_.find(lower.substr(dot + 1)); it != wildcard_names_.end()) return it->second;
  }
  return 0;
}

const CertificateInfo* ServerTlsContext::presented(const SSL* ssl) const {
  const SSL_CTX* used = SSL_get_SSL_CTX(ssl);
  for (size_t i = 0; i < ctxs_.size(); ++i)
    if (ctxs_[i].get() == used) return &infos_[i];
  return nullptr;
}

int ServerTlsContext::onServerName(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const ServerTlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr || self->ctxs_.size() == 1) return SSL_TLSEXT_ERR_OK;
  const size_t i = self->certificateFor(name);
  if (SSL_get_SSL_CTX(ssl) != self->ctxs_[i].get()) SSL_set_SSL_CTX(ssl, self->ctxs_[i].get());
  return SSL_TLSEXT_ERR_OK;
}

int ServerTlsContext::onAlpnSelect(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                                   unsigned int inlen, void* arg) {
  const auto* self = static_cast<const ServerTlsContext*>(arg);
  const std::string& ours = self->alpn_;
  // Our preference order decides, not the client's.
  for (size_t i = 0; i < ours.size(); i += 1 + static_cast<unsigned char>(ours[i])) {
    const unsigned char len = static_cast<unsigned char>(ours[i]);
    for (unsigned int j = 0; j < inlen && j + 1 + in[j] <= inlen; j += 1 + in[j]) {
      if (in[j] == len && std::memcmp(in + j + 1, ours.data() + i + 1, len) == 0) {
        *out = in + j + 1;
        *outlen = len;
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int ServerTlsContext::onTicketKey(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cctx,
                                  EVP_MAC_CTX* hctx, int enc) {
  const auto* self = static_cast<const ServerTlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), serverIndex()));
  if (self == nullptr) return -1;
  const SessionTicketKeys::Pair keys = self->ticket_keys_->load();
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  if (enc == 1) {
    const auto& k = keys.current;
    std::memcpy(key_name, k.name, sizeof(k.name));
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) return -1;
    if (EVP_MAC_CTX_set_params(hctx, params) != 1 || EVP_MAC_init(hctx, k.hmac, sizeof(k.hmac), params) != 1)
      return -1;
    return 1;
  }
  const SessionTicketKeys::Key* k = nullptr;
  bool renew = false;
  if (std::memcmp(key_name, keys.current.name, sizeof(keys.current.name)) == 0) {
    k = &keys.current;
  } else if (keys.has_previous && std::memcmp(key_name, keys.previous.name, sizeof(keys.previous.name)) == 0) {
    k = &keys.previous;
    renew = true;
  }
  if (k == nullptr) return 0;  // unknown or retired key: full handshake
  if (EVP_MAC_CTX_set_params(hctx, params) != 1 || EVP_MAC_init(hctx, k->hmac, sizeof(k->hmac), params) != 1)
    return -1;
  if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k->aes, iv) != 1) return -1;
  return renew ? 2 : 1;
}

// --- ClientTlsContext --------------------------------------------------------

ClientTlsContext::~ClientTlsContext() = default;

BuildResult<ClientTlsContext> ClientTlsContext::build(const ClientTlsOptions& cfg, const ClientTlsMaterial& material) {
  BuildResult<ClientTlsContext> r;
  if (protoVersion(cfg.min_version) > protoVersion(cfg.max_version)) {
    r.error = "min_version is above max_version";
    return r;
  }
  std::shared_ptr<ClientTlsContext> c(new ClientTlsContext());
  c->config_ = cfg;
  if (!parseMatchers(cfg.verify_spiffe_ids, c->checks_.spiffe_ids, r.error)) return r;
  c->checks_.subject_alt_names = cfg.verify_subject_alt_names;
  std::string alpn;
  if (!encodeAlpn(cfg.alpn, alpn, r.error)) return r;

  c->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* x = c->ctx_.get();
  if (x == nullptr) {
    r.error = "SSL_CTX_new: " + opensslErrors();
    return r;
  }
  if (!applyCommon(x, cfg.min_version, cfg.max_version, r.error)) return r;
  if (!material.trusted_ca) {
    if (SSL_CTX_set_default_verify_paths(x) != 1) {
      r.error = "cannot load the system trust store: " + opensslErrors();
      return r;
    }
  } else {
    TrustBundle trust;
    if (!trust.parse(*material.trusted_ca, r.error) || !trust.addTo(x, /*announce=*/false, r.error)) return r;
  }
  SSL_CTX_set_verify(x, SSL_VERIFY_PEER, verifyCallback);
  if (material.certificate && !loadCertAndKey(x, *material.certificate, r.error)) return r;
  if (!alpn.empty() &&
      SSL_CTX_set_alpn_protos(x, reinterpret_cast<const unsigned char*>(alpn.data()),
                              static_cast<unsigned int>(alpn.size())) != 0) {
    r.error = "alpn: " + opensslErrors();
    return r;
  }
  SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_ex_data(x, checksIndex(), &c->checks_);
  if (material.certificate)
    c->infos_.push_back(infoOf(SSL_CTX_get0_certificate(x), material.certificate->cert_chain.origin));
  r.context = std::move(c);
  return r;
}

SSL* ClientTlsContext::newSsl(std::string_view sni_override, std::string* failure_detail) const {
  SSL* ssl = SSL_new(ctx_.get());
  if (ssl == nullptr) return nullptr;
  SSL_set_connect_state(ssl);
  SSL_set_app_data(ssl, failure_detail);
  const std::string sni(sni_override.empty() ? std::string_view(config_.sni) : sni_override);
  if (!sni.empty()) {
    if (!isIpLiteral(sni)) SSL_set_tlsext_host_name(ssl, sni.c_str());
    // Without explicit SAN/identity expectations the name we dialed is the
    // expectation (OpenSSL checks DNS and IP SANs during chain verification).
    if (checks_.spiffe_ids.empty() && checks_.subject_alt_names.empty() && SSL_set1_host(ssl, sni.c_str()) != 1) {
      SSL_free(ssl);
      return nullptr;
    }
  }
  return ssl;
}

bool readCertificateInfo(const Pem& chain, CertificateInfo& out, std::string& error) {
  if (!available(chain, error)) return false;
  auto bio = readBio(chain.text);
  std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    error = chain.label + ": no PEM certificate: " + opensslErrors();
    return false;
  }
  out = infoOf(cert.get(), chain.origin);
  return true;
}

}  // namespace sluice::tls
