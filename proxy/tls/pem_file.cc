#include "proxy/tls/pem_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sluice::tls {

Pem readPemFile(const std::string& field, const std::string& path) {
  Pem pem;
  pem.origin = path;
  if (path.empty()) {
    pem.label = field;
    pem.unavailable = "empty path";
    return pem;
  }
  pem.label = field + " '" + path + "'";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    pem.unavailable = std::string("cannot read: ") + std::strerror(errno);
    return pem;
  }
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) pem.text.append(buf, n);
  if (std::ferror(f) != 0) pem.unavailable = "cannot read: read error";
  std::fclose(f);
  return pem;
}

}  // namespace sluice::tls
