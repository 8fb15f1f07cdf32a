#include "control/kubernetes/api_access.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace sluice::control::kubernetes {
namespace {

std::string folderOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

std::string resolved(const std::string& base, const std::string& path) {
  return path.empty() || path.front() == '/' ? path : base + path;
}

std::optional<std::string> base64Decode(const std::string& in) {
  std::string clean;
  for (char c : in)
    if (c != '\n' && c != '\r' && c != ' ') clean += c;
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  for (size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// `data_key` (base64) or `file_key` (a path) of `node`, into `out`.
bool dataOrFile(const YAML::Node& node, const char* data_key, const char* file_key, const std::string& base,
                std::string& out, std::string& error) {
  if (node[data_key] && node[data_key].IsScalar()) {
    auto bytes = base64Decode(node[data_key].Scalar());
    if (!bytes) {
      error = std::string(data_key) + " is not base64";
      return false;
    }
    out = *bytes;
    return true;
  }
  if (node[file_key] && node[file_key].IsScalar()) {
    auto bytes = readWholeFile(resolved(base, node[file_key].Scalar()), error);
    if (!bytes) return false;
    out = *bytes;
  }
  return true;
}

// The entry `name` of a kubeconfig list (`clusters`, `users`, `contexts`): its inner map.
YAML::Node named(const YAML::Node& root, const char* list, const std::string& name) {
  if (root[list] && root[list].IsSequence())
    for (const auto& item : root[list])
      if (item["name"] && item["name"].IsScalar() && item["name"].Scalar() == name)
        return item[std::string(list).substr(0, std::strlen(list) - 1)];
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

std::optional<std::string> readWholeFile(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<ApiAccess> parseKubeconfig(const std::string& text, const std::string& path, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error = path + ": not YAML: " + e.msg;
    return std::nullopt;
  }
  const std::string base = folderOf(path);
  if (!root.IsMap() || !root["current-context"] || !root["current-context"].IsScalar()) {
    error = path + ": no current-context";
    return std::nullopt;
  }
  const std::string context_name = root["current-context"].Scalar();
  const YAML::Node context = named(root, "contexts", context_name);
  if (!context || !context["cluster"]) {
    error = path + ": context '" + context_name + "' not found or has no cluster";
    return std::nullopt;
  }
  const std::string cluster_name = context["cluster"].Scalar();
  const YAML::Node cluster = named(root, "clusters", cluster_name);
  if (!cluster || !cluster["server"]) {
    error = path + ": cluster '" + cluster_name + "' not found or has no server";
    return std::nullopt;
  }
  ApiAccess out;
  auto url = parseApiUrl(cluster["server"].Scalar(), error);
  if (!url) {
    error = path + ": cluster '" + cluster_name + "' server: " + error;
    return std::nullopt;
  }
  out.url = *url;
  out.describe = cluster["server"].Scalar() + " (kubeconfig " + path + ", context " + context_name + ")";
  out.insecure_skip_verify =
      cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<std::string>() == "true";
  if (!dataOrFile(cluster, "certificate-authority-data", "certificate-authority", base, out.ca_pem, error)) {
    error = path + ": cluster '" + cluster_name + "': " + error;
    return std::nullopt;
  }
  if (context["user"] && context["user"].IsScalar()) {
    const std::string user_name = context["user"].Scalar();
    const YAML::Node user = named(root, "users", user_name);
    if (!user) {
      error = path + ": user '" + user_name + "' not found";
      return std::nullopt;
    }
    if (user["exec"] || user["auth-provider"]) {
      error = path + ": user '" + user_name + "' uses an exec or auth-provider plugin, which is not supported";
      return std::nullopt;
    }
    if (user["token"] && user["token"].IsScalar()) out.token = user["token"].Scalar();
    if (user["tokenFile"] && user["tokenFile"].IsScalar()) out.token_file = resolved(base, user["tokenFile"].Scalar());
    if (!dataOrFile(user, "client-certificate-data", "client-certificate", base, out.client_cert_pem, error) ||
        !dataOrFile(user, "client-key-data", "client-key", base, out.client_key_pem, error)) {
      error = path + ": user '" + user_name + "': " + error;
      return std::nullopt;
    }
  }
  return out;
}

std::optional<ApiAccess> inClusterAccess(std::string_view host, std::string_view port,
                                         std::string_view service_account_dir, std::string& error) {
  if (host.empty()) {
    error = "in_cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)";
    return std::nullopt;
  }
  // Kubernetes sets an IPv6 address bare ("fd00::1"); brackets are taken too.
  const bool bracketed = host.front() == '[' && host.back() == ']';
  if (host.front() == '[' && !bracketed) {
    error = "in_cluster: KUBERNETES_SERVICE_HOST '" + std::string(host) + "' has an unclosed '['";
    return std::nullopt;
  }
  const std::string bare(bracketed ? host.substr(1, host.size() - 2) : host);
  if (bare.empty()) {
    error = "in_cluster: KUBERNETES_SERVICE_HOST '" + std::string(host) + "' has no address";
    return std::nullopt;
  }
  const std::string url = "https://" + (bare.find(':') != std::string::npos ? "[" + bare + "]" : bare) +
                          (port.empty() ? "" : ":" + std::string(port));
  std::string why;
  auto parsed = parseApiUrl(url, why);
  if (!parsed) {
    error = "in_cluster: KUBERNETES_SERVICE_HOST '" + std::string(host) + "' and KUBERNETES_SERVICE_PORT '" +
            std::string(port) + "': " + why;
    return std::nullopt;
  }
  ApiAccess out;
  out.url = *parsed;
  const std::string dir(service_account_dir);
  auto ca = readWholeFile(dir + "/ca.crt", why);
  if (!ca) {
    error = "in_cluster: " + why + " (the cluster's CA, mounted with the service account)";
    return std::nullopt;
  }
  out.ca_pem = *ca;
  out.token_file = dir + "/token";
  // Read per request (the kubelet rotates it); missing now is an error now.
  if (!readWholeFile(out.token_file, why)) {
    error = "in_cluster: " + why + " (the service account's token: is automountServiceAccountToken off?)";
    return std::nullopt;
  }
  out.describe = "https://" + hostPort(out.url) + " (in cluster)";
  return out;
}

std::optional<ApiAccess> resolveAccess(const KubernetesSpec& spec, std::string& error,
                                       std::string_view service_account_dir) {
  if (spec.in_cluster) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    return inClusterAccess(host ? host : "", port ? port : "", service_account_dir, error);
  }
  if (!spec.kubeconfig.empty()) {
    auto text = readWholeFile(spec.kubeconfig, error);
    if (!text) return std::nullopt;
    return parseKubeconfig(*text, spec.kubeconfig, error);
  }
  ApiAccess out;
  auto url = parseApiUrl(spec.api_server, error);
  if (!url) return std::nullopt;
  out.url = *url;
  if (!spec.ca_file.empty()) {
    auto ca = readWholeFile(spec.ca_file, error);
    if (!ca) return std::nullopt;
    out.ca_pem = *ca;
  }
  out.token_file = spec.token_file;
  out.describe = spec.api_server;
  return out;
}

}  // namespace sluice::control::kubernetes
