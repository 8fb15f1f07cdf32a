#include "tests/integration/support/http_client.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sluice::itest {

std::string HttpReply::describe() const {
  std::string out = version + " " + std::to_string(status) + " " + reason + " " + describeHeaders(headers) +
                    " body " + std::to_string(body_bytes) + " bytes";
  if (!body.empty()) out += " '" + body.substr(0, 200) + "'";
  if (!error.empty()) out += " [" + error + "]";
  return out;
}

HttpReply readHttpReply(WireReader& in, Deadline deadline, ReadOptions opts) {
  HttpReply r;
  for (;;) {
    auto head = in.readUntil("\r\n\r\n", deadline, 1 << 20);
    if (!head) {
      r.error = "no complete response head (" + in.describeEnd() + "); got '" + in.pending().substr(0, 200) + "'";
      return r;
    }
    size_t eol = head->find("\r\n");
    std::string_view line(head->data(), eol);
    if (line.substr(0, 5) != "HTTP/" || line.size() < 12) {
      r.error = "not a status line: '" + std::string(line) + "'";
      return r;
    }
    size_t sp = line.find(' ');
    r.version = std::string(line.substr(0, sp));
    r.status = std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    r.reason = sp + 5 <= line.size() ? std::string(line.substr(sp + 5)) : "";
    r.headers.clear();
    if (!parseHeaderLines(std::string_view(*head).substr(eol + 2), r.headers)) {
      r.error = "bad header line in '" + head->substr(0, 400) + "'";
      return r;
    }
    if (r.status >= 100 && r.status < 200 && r.status != 101) {
      r.interim.push_back(r.status);
      if (opts.stop_at_interim) {
        r.complete = true;
        return r;
      }
      continue;
    }
    break;
  }
  // Message body length, RFC 9112 6.3.
  BodyResult body;
  auto te = r.header("transfer-encoding");
  auto cl = r.header("content-length");
  if (opts.head_request || r.status == 101 || r.status == 204 || r.status == 304) {
    body.complete = true;
  } else if (te) {
    body = readChunkedBody(in, deadline, opts.keep);
  } else if (cl) {
    body = readLengthBody(in, std::strtoull(cl->c_str(), nullptr, 10), deadline, opts.keep);
  } else {
    body = readBodyToEof(in, deadline, opts.keep);
  }
  r.body = std::move(body.kept);
  r.body_bytes = body.bytes;
  r.body_checksum = body.checksum;
  r.trailers = std::move(body.trailers);
  r.complete = body.complete;
  r.error = std::move(body.error);
  return r;
}

RawHttpClient::RawHttpClient(uint16_t port, Millis connect_timeout)
    : fd_(connectLoopback(port, connect_timeout, &connect_err_)), reader_(fd_.get()) {}

bool RawHttpClient::send(std::string_view bytes, Millis timeout) {
  return sendAll(fd_.get(), bytes, Deadline(timeout));
}

HttpReply RawHttpClient::read(Millis timeout, ReadOptions opts) { return readHttpReply(reader_, Deadline(timeout), opts); }

HttpReply RawHttpClient::roundTrip(std::string_view request, Millis timeout, ReadOptions opts) {
  if (!send(request, timeout)) {
    HttpReply r;
    r.error = std::string("send failed: ") + std::strerror(errno);
    return r;
  }
  return read(timeout, opts);
}

bool RawHttpClient::waitClosed(Millis timeout, std::string* extra) {
  std::string got = reader_.pending();
  reader_.pending().clear();
  ReadToClose r = readUntilClosed(fd_.get(), Deadline(timeout), 64 * 1024);
  got += r.data;
  if (extra) *extra = got;
  return (r.how == CloseKind::kEof || r.how == CloseKind::kReset) && got.empty();
}

void RawHttpClient::shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

}  // namespace sluice::itest
