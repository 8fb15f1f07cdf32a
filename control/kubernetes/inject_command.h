#pragma once
// `sluice-control inject -c control.yaml -f pod.yaml [--patch]`: what the
// webhook would do to a pod, offline. The input is a Pod, or a workload
// whose pod template is injected (Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job, CronJob), in YAML or JSON; the output is the object with
// the sidecar, as JSON (kubectl apply -f - takes it), or with --patch the
// JSON Patch the webhook would answer.

#include <string>

namespace sluice::control::kubernetes {

// Exit status: 0 done (a pod the webhook would leave alone is printed
// unchanged, the reason on stderr), 1 when the config, the file or the pod
// cannot be used.
int runInject(const std::string& config_path, const std::string& object_path, bool patch_only);

}  // namespace sluice::control::kubernetes
