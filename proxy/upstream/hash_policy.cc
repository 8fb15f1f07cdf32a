#include "proxy/upstream/hash_policy.h"

#include <arpa/inet.h>

#include "proxy/util/hash.h"

namespace sluice::upstream {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Value of `name` in a `sep`-separated list of name=value pairs.
std::optional<std::string_view> findPair(std::string_view list, char sep, std::string_view name) {
  while (!list.empty()) {
    const size_t end = list.find(sep);
    const std::string_view pair = trim(list.substr(0, end));
    list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> cookie(const http::HeaderMap& headers, std::string_view name) {
  // HTTP/2 may split cookies over several fields, so every one is searched.
  std::optional<std::string_view> found;
  headers.forEach([&](std::string_view n, std::string_view v) {
    if (!found && http::equalsIgnoreCase(n, "cookie")) found = findPair(v, ';', name);
  });
  return found;
}

std::optional<std::string_view> queryParameter(std::string_view path, std::string_view name) {
  const size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  query = query.substr(0, query.find('#'));
  return findPair(query, '&', name);
}

// Formats into a stack buffer: Address::ip() would allocate for IPv6.
std::optional<uint64_t> hashIp(const ip::Address& a) {
  char buf[INET6_ADDRSTRLEN];
  const void* raw = nullptr;
  if (a.family() == AF_INET) raw = &reinterpret_cast<const sockaddr_in*>(a.sockAddr())->sin_addr;
  if (a.family() == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6*>(a.sockAddr())->sin6_addr;
  if (!raw || !inet_ntop(a.family(), raw, buf, sizeof(buf))) return std::nullopt;
  return util::hash64(buf);
}

}  // namespace

std::optional<uint64_t> hashRequest(std::span<const config::HashPolicyConfig> policies,
                                    const http::HeaderMap& headers, const ip::Address* source) {
  using Kind = config::HashPolicyConfig::Kind;
  for (const auto& p : policies) {
    std::optional<std::string_view> value;
    switch (p.kind) {
      case Kind::Header:
        value = headers.get(p.name);
        break;
      case Kind::Cookie:
        value = cookie(headers, p.name);
        break;
      case Kind::QueryParameter:
        value = queryParameter(headers.path(), p.name);
        break;
      case Kind::SourceIp:
        if (source) {
          if (auto h = hashIp(*source)) return h;
        }
        break;
    }
    if (value) return util::hash64(*value);
  }
  return std::nullopt;
}

}  // namespace sluice::upstream
