#include "tests/integration/support/admission.h"

#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

using nlohmann::json;

std::string kubernetesDataFile(const std::string& name) {
  return readFile(repoRoot() + "/tests/integration/data/kubernetes/" + name);
}

json podOf(const std::string& file) {
  const json obj = json::parse(kubernetesDataFile(file));
  if (obj["kind"] == "Pod") return obj;
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", obj["spec"]["template"].value("metadata", json::object())},
              {"spec", obj["spec"]["template"]["spec"]}};
  const std::string name = obj["metadata"]["name"];
  json& meta = pod["metadata"];
  if (obj["kind"] == "Deployment") {
    meta["generateName"] = name + "-6c9f8d7b5-";
    meta["labels"]["pod-template-hash"] = "6c9f8d7b5";
    meta["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                {"kind", "ReplicaSet"},
                                {"name", name + "-6c9f8d7b5"},
                                {"controller", true},
                                {"uid", "7d1c0e4a"}}};
  } else if (obj["kind"] == "StatefulSet") {
    meta["name"] = name + "-0";
    meta["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                {"kind", "StatefulSet"},
                                {"name", name},
                                {"controller", true},
                                {"uid", "b3f2a9c1"}}};
  } else if (obj["kind"] == "Job") {
    meta["generateName"] = name + "-";
    meta["labels"]["job-name"] = name;
    meta["ownerReferences"] = {
        {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", name}, {"controller", true}, {"uid", "e8a04f37"}}};
  }
  return pod;
}

json review(const std::string& uid, const std::string& ns, const json& pod) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", uid},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"namespace", ns},
            {"operation", "CREATE"},
            {"userInfo", {{"username", "system:serviceaccount:kube-system:replicaset-controller"}}},
            {"object", pod},
            {"oldObject", nullptr},
            {"dryRun", false},
            {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
}

std::string base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace sluice::itest
