#include "control/kubernetes/pod_identity.h"

#include <gtest/gtest.h>

namespace sluice::control::kubernetes {
namespace {

nlohmann::json parse(const char* text) { return nlohmann::json::parse(text); }

TEST(PodIdentity, ADeploymentsPodIsTheDeploymentWithoutTheTemplateHash) {
  const auto id = podIdentity(parse(R"({
    "metadata": {"generateName": "web-6c9f8d7b5-", "namespace": "prod",
      "labels": {"app": "web", "pod-template-hash": "6c9f8d7b5"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6c9f8d7b5",
                           "controller": true, "uid": "x"}]},
    "spec": {"serviceAccountName": "web-sa"}})"));
  EXPECT_EQ(id.workload, "web");
  EXPECT_EQ(id.namespace_name, "prod");
  EXPECT_EQ(id.service_account, "web-sa");
  EXPECT_EQ(id.nodeId(), "web.prod");
}

TEST(PodIdentity, AStatefulSetsPodIsTheStatefulSet) {
  const auto id = podIdentity(parse(R"({
    "metadata": {"name": "db-0", "labels": {"controller-revision-hash": "db-7d8"},
      "ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": true}]}})"),
                              "data");
  EXPECT_EQ(id.workload, "db");
  EXPECT_EQ(id.namespace_name, "data");  // from the admission request
  EXPECT_EQ(id.service_account, "default");
}

TEST(PodIdentity, OnlyTheControllerOwnerNamesTheWorkload) {
  const auto id = podIdentity(parse(R"({
    "metadata": {"name": "p", "ownerReferences": [
      {"kind": "ConfigMap", "name": "not-me"},
      {"kind": "Job", "name": "migrate", "controller": true}]}})"));
  EXPECT_EQ(id.workload, "migrate");
}

TEST(PodIdentity, AReplicaSetWithoutTheHashLabelKeepsItsName) {
  const auto id = podIdentity(parse(R"({
    "metadata": {"name": "p", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs-abc", "controller": true}]}})"));
  EXPECT_EQ(id.workload, "rs-abc");
}

TEST(PodIdentity, ABarePodIsItsOwnWorkload) {
  EXPECT_EQ(podIdentity(parse(R"({"metadata": {"name": "debug"}})")).workload, "debug");
  EXPECT_EQ(podIdentity(parse(R"({"metadata": {"generateName": "tool-"}})")).workload, "tool");
}

TEST(PodIdentity, MistypedFieldsTakeDefaults) {
  const auto id = podIdentity(parse(R"({"metadata": {"name": 7, "namespace": [], "ownerReferences": {}},
                                        "spec": {"serviceAccountName": false}})"));
  EXPECT_EQ(id.workload, "");
  EXPECT_EQ(id.namespace_name, "default");
  EXPECT_EQ(id.service_account, "default");
  EXPECT_EQ(podIdentity(parse("[1,2]")).namespace_name, "default");
}

}  // namespace
}  // namespace sluice::control::kubernetes
