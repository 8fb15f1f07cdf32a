#include "control/ca/bootstrap_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "control/ca/x509_util.h"

namespace sluice::control::ca {
namespace {

using Mac = std::array<unsigned char, 32>;

constexpr std::string_view kVersion = "v1";
constexpr std::string_view kFormat = "expected v1/<namespace>/<service-account>/<hex HMAC-SHA256>";

Mac macOf(std::string_view key, std::string_view message) {
  Mac mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &len);
  return mac;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

}  // namespace

bool readTokenKey(const std::string& path, std::string& key, std::string& error) {
  if (!readWholeFile(path, key, error)) return false;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  if (key.size() < kMinTokenKeyBytes) {
    error = "key is " + std::to_string(key.size()) + " bytes; at least " + std::to_string(kMinTokenKeyBytes) +
            " are needed";
    return false;
  }
  return true;
}

std::string mintToken(std::string_view key, const WorkloadIdentity& id) {
  const std::string message = std::string(kVersion) + "/" + id.ns + "/" + id.sa;
  static const char* const kHex = "0123456789abcdef";
  std::string token = message + "/";
  for (unsigned char b : macOf(key, message)) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  return token;
}

TokenCheck TokenVerifier::verify(std::string_view token) const {
  TokenCheck out;
  if (token.empty()) {
    out.reason = "empty token";
    return out;
  }
  const std::vector<std::string_view> parts = split(token, '/');
  if (parts.size() != 4) {
    out.reason = "malformed token: " + std::string(kFormat);
    return out;
  }
  if (parts[0] != kVersion) {
    out.reason = "unsupported token version '" + std::string(parts[0].substr(0, 16)) + "': " + std::string(kFormat);
    return out;
  }
  WorkloadIdentity id{std::string(parts[1]), std::string(parts[2])};
  if (std::string why = checkNamespace(id.ns); !why.empty()) {
    out.reason = "bad namespace in token: " + why;
    return out;
  }
  if (std::string why = checkServiceAccount(id.sa); !why.empty()) {
    out.reason = "bad service account in token: " + why;
    return out;
  }
  const std::string_view hex = parts[3];
  Mac given{};
  bool hex_ok = hex.size() == given.size() * 2;
  for (size_t i = 0; hex_ok && i < given.size(); ++i) {
    const int hi = hexValue(hex[2 * i]), lo = hexValue(hex[2 * i + 1]);
    hex_ok = hi >= 0 && lo >= 0;
    given[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  if (!hex_ok) {
    out.reason = "malformed token signature: expected 64 hex digits";
    return out;
  }
  const std::string_view message = token.substr(0, token.size() - hex.size() - 1);
  bool match = false;
  // Every key is tried, whatever matched before: the time taken says
  // nothing about which key (or how much of a MAC) was right.
  for (const std::string& key : keys_) {
    const Mac want = macOf(key, message);
    match |= CRYPTO_memcmp(want.data(), given.data(), want.size()) == 0;
  }
  if (!match) {
    out.reason = "token signature matches no configured key";
    return out;
  }
  out.identity = std::move(id);
  return out;
}

}  // namespace sluice::control::ca
