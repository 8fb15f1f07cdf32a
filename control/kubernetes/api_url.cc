#include "control/kubernetes/api_url.h"

#include <algorithm>
#include <cctype>

namespace sluice::control::kubernetes {
namespace {

bool isLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::optional<ApiUrl> parseApiUrl(std::string_view url, std::string& error) {
  ApiUrl out;
  if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    out.tls = false;
    url.remove_prefix(7);
  } else {
    error = "must start with https:// (or http:// to a loopback address)";
    return std::nullopt;
  }
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.find('/') != std::string_view::npos) {
    error = "must be a server address without a path";
    return std::nullopt;
  }
  std::string_view port;
  if (!url.empty() && url.front() == '[') {
    const size_t close = url.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed '[' in the host";
      return std::nullopt;
    }
    out.host = std::string(url.substr(1, close - 1));
    if (close + 1 < url.size()) {
      if (url[close + 1] != ':') {
        error = "expected ':' after ']'";
        return std::nullopt;
      }
      port = url.substr(close + 2);
    }
  } else {
    const size_t colon = url.rfind(':');
    out.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) port = url.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "has no host";
    return std::nullopt;
  }
  if (port.empty() && url.find(':') != std::string_view::npos && url.front() != '[') {
    error = "has an empty port";
    return std::nullopt;
  }
  if (!port.empty()) {
    const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](unsigned char c) {
      return std::isdigit(c);
    });
    if (!digits || std::stoul(std::string(port)) < 1 || std::stoul(std::string(port)) > 65535) {
      error = "has an invalid port";
      return std::nullopt;
    }
  }
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  if (!out.tls && !isLoopback(out.host)) {
    error = "http:// is allowed to a loopback address only (the bearer token would cross the network in clear)";
    return std::nullopt;
  }
  return out;
}

std::string hostPort(const ApiUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port;
}

}  // namespace sluice::control::kubernetes
