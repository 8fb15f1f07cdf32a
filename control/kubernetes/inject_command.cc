#include "control/kubernetes/inject_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "control/control_config.h"
#include "control/kubernetes/sidecar_patch.h"
#include "control/kubernetes/yaml_json.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

int fail(const std::string& msg) {
  std::fprintf(stderr, "sluice-control inject: %s\n", msg.c_str());
  return 1;
}

// Where the pod template of a workload is, as a JSON Pointer; empty for a Pod.
std::string templatePointer(const json& obj) {
  const std::string kind = obj.value("kind", "");
  if (kind == "Pod") return "";
  if (kind == "CronJob") return "/spec/jobTemplate/spec/template";
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" || kind == "Job")
    return "/spec/template";
  return "?";
}

}  // namespace

int runInject(const std::string& config_path, const std::string& object_path, bool patch_only) {
  const auto loaded = loadControlFile(config_path);
  if (!loaded.config) {
    std::fputs(loaded.errorText().c_str(), stderr);
    return 1;
  }
  if (!loaded.config->injection) return fail(config_path + " has no injection: block");
  std::string text;
  if (object_path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(object_path, std::ios::binary);
    if (!in) return fail("cannot read " + object_path);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  json obj;
  std::string error;
  if (!manifestToJson(text, obj, error)) return fail(object_path + ": " + error);
  if (!obj.is_object()) return fail(object_path + ": not a Kubernetes object");
  const std::string where = templatePointer(obj);
  if (where == "?") return fail(object_path + ": kind '" + obj.value("kind", "") + "' has no pod template to inject");
  const json::json_pointer ptr(where);
  if (!obj.contains(ptr) || !obj[ptr].is_object()) return fail(object_path + ": no pod template at " + where);

  json& target = obj[ptr];
  json pod = target;
  const std::string ns = obj.contains("metadata") ? obj["metadata"].value("namespace", "") : "";
  if (!where.empty()) {
    // A template has no name or owner yet; its pods will be owned by the
    // workload (through a ReplicaSet for a Deployment, which names them alike).
    if (!target.contains("metadata") || !target["metadata"].is_object()) target["metadata"] = json::object();
    pod = target;
    pod["metadata"]["ownerReferences"] = {
        {{"kind", obj.value("kind", "")}, {"name", obj["metadata"].value("name", "")}, {"controller", true}}};
  }
  const SidecarPatch p = buildSidecarPatch(pod, *loaded.config->injection, ns);
  for (const auto& w : p.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (p.outcome == SidecarPatch::Outcome::Failed) return fail("cannot inject the sidecar: " + p.reason);
  if (p.outcome == SidecarPatch::Outcome::Skipped)
    std::fprintf(stderr, "sluice-control inject: left alone (%s)\n", p.reason.c_str());
  if (patch_only) {
    std::printf("%s\n", p.patch.dump(2).c_str());
    return 0;
  }
  try {
    target = target.patch(p.patch);
  } catch (const json::exception& e) {
    return fail(std::string("the patch does not apply (a bug): ") + e.what());
  }
  std::printf("%s\n", obj.dump(2).c_str());
  return 0;
}

}  // namespace sluice::control::kubernetes
