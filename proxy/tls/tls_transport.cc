#include "proxy/tls/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/net/buffer.h"
#include "proxy/tls/peer_identity.h"

namespace sluice::tls {

using net::IoResult;

// The BIO between the SSL and the fd. Raw syscalls for the same reason as
// RawTransport (no cancellation-point bookkeeping), send() with
// MSG_NOSIGNAL so a peer reset is an error result, never a SIGPIPE.
struct SocketBio {
  static int write(BIO* b, const char* data, int len) {
    auto* t = static_cast<TlsTransport*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t n = ::syscall(SYS_sendto, t->fd_, data, static_cast<size_t>(len), MSG_NOSIGNAL, nullptr, 0);
      if (n >= 0) return static_cast<int>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN) BIO_set_retry_write(b);
      else t->last_errno_ = errno;
      return -1;
    }
  }
  static int read(BIO* b, char* data, int len) {
    auto* t = static_cast<TlsTransport*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t n = ::syscall(SYS_read, t->fd_, data, static_cast<size_t>(len));
      if (n > 0) {
        t->read_short_ = n < len;
        return static_cast<int>(n);
      }
      if (n == 0) {
        t->eof_ = true;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) BIO_set_retry_read(b);
      else t->last_errno_ = errno;
      return -1;
    }
  }
  static long ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH: return 1;  // nothing is buffered here
      case BIO_CTRL_EOF: return static_cast<TlsTransport*>(BIO_get_data(b))->eof_ ? 1 : 0;
      default: return 0;
    }
  }
  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }
  static int destroy(BIO*) { return 1; }
  static const BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice_socket");
      BIO_meth_set_write(bm, &SocketBio::write);
      BIO_meth_set_read(bm, &SocketBio::read);
      BIO_meth_set_ctrl(bm, &SocketBio::ctrl);
      BIO_meth_set_create(bm, &SocketBio::create);
      BIO_meth_set_destroy(bm, &SocketBio::destroy);
      return bm;
    }();
    return m;
  }
};

TlsTransport::TlsTransport(std::shared_ptr<const ServerTlsContext> ctx) : server_ctx_(std::move(ctx)) {}

TlsTransport::TlsTransport(std::shared_ptr<const ClientTlsContext> ctx, std::string sni, std::string alpn)
    : client_ctx_(std::move(ctx)), sni_(std::move(sni)), alpn_(std::move(alpn)) {}

TlsTransport::~TlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

void TlsTransport::onConnected(int fd) {
  fd_ = fd;
  ssl_ = server_ctx_ ? server_ctx_->newSsl(&failure_) : client_ctx_->newSsl(sni_, &failure_);
  if (ssl_ != nullptr && !alpn_.empty() &&
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn_.data()),
                          static_cast<unsigned int>(alpn_.size())) != 0) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  BIO* bio = ssl_ ? BIO_new(SocketBio::method()) : nullptr;
  if (bio == nullptr) {
    failed_ = true;
    failure_ = "cannot create the TLS session: " + std::string(ERR_reason_error_string(ERR_get_error()) ?: "no memory");
    ERR_clear_error();
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL
  // Without read-ahead OpenSSL reads each record's 5-byte header and then its
  // body: two syscalls per record. With it, one read takes whatever the
  // socket holds, and a short one tells doRead the socket is empty.
  SSL_set_read_ahead(ssl_, 1);
}

void TlsTransport::recordFailure(int ssl_error) {
  std::string why;
  if (ssl_error == SSL_ERROR_SYSCALL) {
    why = last_errno_ != 0 ? std::string("socket error: ") + std::strerror(last_errno_)
                           : "peer closed the connection";
  }
  while (const unsigned long e = ERR_get_error()) {
    if (!why.empty()) why += "; ";
    why += ERR_reason_error_string(e) ?: "unknown error";
  }
  const long verify = ssl_ ? SSL_get_verify_result(ssl_) : X509_V_OK;
  if (verify != X509_V_OK) {
    if (!why.empty()) why += ": ";
    // failure_ holds our own identity check's detail when that failed.
    why += failure_.empty() ? X509_verify_cert_error_string(verify) : failure_;
  }
  failure_ = why.empty() ? "TLS error" : why;
}

net::HandshakeResult TlsTransport::doHandshake(int) {
  using S = net::HandshakeResult::Status;
  if (failed_) return {S::Failed, 0};
  if (done_) return {S::Done, 0};
  ERR_clear_error();
  last_errno_ = 0;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    done_ = true;
    fillInfo();
    return {S::Done, 0};
  }
  const int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {S::InProgress, 0};
  failed_ = true;
  const int err = e == SSL_ERROR_SYSCALL ? last_errno_ : 0;
  recordFailure(e);
  return {S::Failed, err};
}

void TlsTransport::fillInfo() {
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  if (alpn != nullptr) info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info_.sni = name;
  else if (client_ctx_) info_.sni = sni_.empty() ? client_ctx_->config().sni : sni_;
  info_.version = SSL_get_version(ssl_);
  info_.cipher = SSL_get_cipher_name(ssl_);
  info_.session_reused = SSL_session_reused(ssl_) == 1;
  if (server_ctx_)
    if (const CertificateInfo* own = server_ctx_->presented(ssl_)) info_.local_spiffe_id = own->spiffe_id;
  if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
    info_.peer_certificate_presented = true;
    // The handshake would have failed on a bad chain or identity; the result
    // is checked anyway so "verified" never depends on that reasoning.
    info_.peer_certificate_verified = SSL_get_verify_result(ssl_) == X509_V_OK &&
                                      (client_ctx_ || server_ctx_->verifiesClients());
    info_.peer_uri_sans = uriSans(peer);
    if (auto id = spiffeIdOf(peer)) info_.peer_spiffe_id = std::move(*id);
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof(buf));
    info_.peer_subject = buf;
  }
}

IoResult TlsTransport::doRead(int, net::Buffer& into, size_t max, bool drain) {
  // As on the raw path, a short socket read means the socket is empty: once
  // OpenSSL holds nothing more either, stop without the read that would
  // only return EAGAIN (unless the caller must see a pending FIN).
  IoResult r;
  if (failed_) {
    r.status = IoResult::Status::Error;
    r.err = EPROTO;
    return r;
  }
  while (r.bytes < max) {
    iovec iov[1];
    into.reserve(std::min<size_t>(max - r.bytes, net::Buffer::kSliceSize), iov, 1);
    const int want = static_cast<int>(std::min<size_t>(iov[0].iov_len, max - r.bytes));
    ERR_clear_error();
    last_errno_ = 0;
    const int n = SSL_read(ssl_, iov[0].iov_base, want);
    if (n > 0) {
      into.commit(static_cast<size_t>(n));
      r.bytes += static_cast<size_t>(n);
      if (!drain && read_short_ && !SSL_has_pending(ssl_)) break;
      continue;
    }
    into.commit(0);
    const int e = SSL_get_error(ssl_, n);
    switch (e) {
      case SSL_ERROR_WANT_READ:
        break;
      case SSL_ERROR_WANT_WRITE:
        r.needs_writable = true;
        break;
      case SSL_ERROR_ZERO_RETURN:  // close_notify, or a bare FIN (IGNORE_UNEXPECTED_EOF)
        r.status = IoResult::Status::Closed;
        break;
      case SSL_ERROR_SYSCALL:
        if (last_errno_ == 0) {
          r.status = IoResult::Status::Closed;
          break;
        }
        r.status = IoResult::Status::Error;
        r.err = last_errno_;
        failed_ = true;
        recordFailure(e);
        break;
      default:
        r.status = IoResult::Status::Error;
        r.err = EPROTO;
        failed_ = true;
        recordFailure(e);
        break;
    }
    break;
  }
  return r;
}

IoResult TlsTransport::doWrite(int, net::Buffer& from) {
  IoResult r;
  if (failed_) {
    r.status = IoResult::Status::Error;
    r.err = EPROTO;
    return r;
  }
  // One TLS record per SSL_write: several small slices are gathered into
  // one record (and one send) instead of one record each.
  constexpr size_t kRecord = 16 * 1024;
  char gather[kRecord];
  while (!from.empty()) {
    iovec iov[16];
    const size_t n_iov = from.peek(iov, 16);
    const void* data = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    if (n_iov > 1 && len < kRecord) {
      len = 0;
      for (size_t i = 0; i < n_iov && len < kRecord; ++i) {
        const size_t take = std::min(iov[i].iov_len, kRecord - len);
        std::memcpy(gather + len, iov[i].iov_base, take);
        len += take;
      }
      data = gather;
    }
    ERR_clear_error();
    last_errno_ = 0;
    const int n = SSL_write(ssl_, data, static_cast<int>(std::min(len, kRecord)));
    if (n > 0) {
      from.drain(static_cast<size_t>(n));
      r.bytes += static_cast<size_t>(n);
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_WANT_READ) {
      r.needs_readable = true;
      break;
    }
    r.status = IoResult::Status::Error;
    r.err = e == SSL_ERROR_SYSCALL && last_errno_ != 0 ? last_errno_ : EPROTO;
    failed_ = true;
    recordFailure(e);
    break;
  }
  return r;
}

void TlsTransport::shutdownWrite(int fd) {
  if (done_ && !failed_ && !shutdown_sent_) {
    shutdown_sent_ = true;
    ERR_clear_error();
    // Sends close_notify; the peer's own close_notify still arrives through
    // doRead (half-close). A full socket buffer drops the alert: the FIN
    // below is the end of stream either way.
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd, SHUT_WR);
}

void TlsTransport::onClosing(int) {
  if (!done_ || failed_ || shutdown_sent_) return;
  shutdown_sent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace sluice::tls
