#include "control/kubernetes/kubernetes_config.h"

#include "config/yaml_document.h"
#include "control/kubernetes/api_url.h"

namespace sluice::control::kubernetes {
namespace {

using config::MapReader;

std::string resolved(const std::string& control_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const size_t slash = control_file.rfind('/');
  return slash == std::string::npos ? path : control_file.substr(0, slash + 1) + path;
}

void readPath(MapReader& r, std::string_view key, std::string& out) {
  r.string(key, out);
  if (r.has(key) && out.empty()) r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
  out = resolved(r.ctx().file(), out);
}

}  // namespace

void readKubernetesSpec(MapReader& top, std::optional<KubernetesSpec>& out) {
  const YAML::Node n = top.child("kubernetes");
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, "kubernetes");
  if (!r.isMap()) return;
  KubernetesSpec spec;
  spec.loc = config::locOf(n);
  r.boolean("in_cluster", spec.in_cluster);
  readPath(r, "kubeconfig", spec.kubeconfig);
  r.string("api_server", spec.api_server);
  readPath(r, "token_file", spec.token_file);
  readPath(r, "ca_file", spec.ca_file);
  const int sources = int(spec.in_cluster) + int(r.has("kubeconfig")) + int(r.has("api_server"));
  if (sources != 1)
    r.ctx().error(n, "kubernetes", "needs exactly one of 'in_cluster: true', 'kubeconfig' or 'api_server'");
  if (r.has("api_server")) {
    std::string why;
    if (!parseApiUrl(spec.api_server, why)) r.ctx().error(r.locOf("api_server"), "kubernetes.api_server", why);
  }
  for (std::string_view key : {"token_file", "ca_file"})
    if (r.has(key) && !r.has("api_server"))
      r.ctx().error(r.locOf(key), r.childPath(key), "is for api_server (in_cluster and kubeconfig name their own)");
  r.forEachItem("namespaces", [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      r.ctx().error(item, path, "expected a namespace name");
      return;
    }
    spec.namespaces.push_back(item.Scalar());
  });
  r.uint32("page_size", spec.page_size, 1, 10000);
  r.duration("watch_timeout", spec.watch_timeout);
  if (spec.watch_timeout < std::chrono::seconds(1))
    r.ctx().error(r.locOf("watch_timeout"), "kubernetes.watch_timeout", "must be at least 1s");
  if (r.has("backoff")) {
    MapReader b(r.ctx(), r.child("backoff"), "kubernetes.backoff");
    if (b.isMap()) {
      b.duration("initial", spec.backoff_initial);
      b.duration("max", spec.backoff_max);
      if (spec.backoff_initial <= config::Duration::zero())
        b.ctx().error(b.locOf("initial"), "kubernetes.backoff.initial", "must be greater than 0");
      if (spec.backoff_max < spec.backoff_initial)
        b.ctx().error(b.locOf("max"), "kubernetes.backoff.max", "must not be less than initial");
      b.finish();
    }
  }
  r.duration("sync_timeout", spec.sync_timeout);
  r.finish();
  out = std::move(spec);
}

std::optional<KubernetesSpec> kubernetesSpecOf(const std::string& yaml_text, const std::string& file) {
  config::ParseContext ctx(file);
  try {
    const YAML::Node root = config::loadSingleDocument(yaml_text, ctx);
    if (!root.IsMap() || !config::substituteEnv(root, ctx)) return std::nullopt;
    MapReader top(ctx, root, "");
    std::optional<KubernetesSpec> out;
    readKubernetesSpec(top, out);
    if (!ctx.ok()) return std::nullopt;
    return out;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace sluice::control::kubernetes
