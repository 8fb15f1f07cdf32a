#pragma once
// An API server's URL, "https://host[:port][/]" ("http://" to loopback).

#include <optional>
#include <string>
#include <string_view>

namespace sluice::control::kubernetes {

struct ApiUrl {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::string port;  // default 443 / 80
};

// nullopt with `error` set for a URL that is not "http(s)://host[:port]" (a
// trailing '/' allowed, no other path), or http:// to a non-loopback host.
std::optional<ApiUrl> parseApiUrl(std::string_view url, std::string& error);

// "host:port", an IPv6 host in brackets ("[fd00::1]:443"): for a URL, a log
// line or the Host header.
std::string hostPort(const ApiUrl& url);

}  // namespace sluice::control::kubernetes
