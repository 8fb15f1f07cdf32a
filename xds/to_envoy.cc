#include "xds/to_envoy.h"
// Placeholder while the translation is written (replaced before merge).
namespace sluice::xds {
ResourcesByType toEnvoy(const config::Config&) { return {}; }
std::optional<Resource> proxylessListener(const config::Config&, std::string_view) { return std::nullopt; }
}  // namespace sluice::xds
