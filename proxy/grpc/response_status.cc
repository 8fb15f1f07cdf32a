#include "proxy/grpc/response_status.h"

#include "proxy/http/grpc.h"

namespace sluice::grpc {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Status> statusOfHeaders(const http::HeaderMap& headers, bool end_stream) {
  const int http_status = headers.status();
  if (http_status != 200) {
    Status s{http::grpc::statusForHttp(http_status), "HTTP status " + std::to_string(http_status)};
    if (const auto m = headers.get("grpc-message"); m && !m->empty()) s.message += ": " + decodeMessage(*m);
    return s;
  }
  if (end_stream) return statusOfTrailers(headers);
  if (!http::grpc::isGrpc(headers)) {
    const std::string ct(headers.get("content-type").value_or(""));
    return Status{kUnknown, "the response's content-type '" + ct + "' is not gRPC"};
  }
  return std::nullopt;
}

Status statusOfTrailers(const http::HeaderMap& trailers) {
  const auto code = http::grpc::statusOf(trailers);
  if (!code) {
    const auto raw = trailers.get("grpc-status");
    return Status{kUnknown, raw ? "a grpc-status of '" + std::string(*raw) + "'" : "the response carries no grpc-status"};
  }
  Status s{*code, {}};
  if (const auto m = trailers.get("grpc-message")) s.message = decodeMessage(*m);
  return s;
}

std::string decodeMessage(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

}  // namespace sluice::grpc
