#pragma once
// `sluice iptables`: programs transparent capture in the current network
// namespace (run by the pod's init step with NET_ADMIN, or by hand in a
// netns), removes it (--cleanup), or prints it (--dry-run).
//
// The rules come from renderRules(); this file only finds the binaries and
// runs them: `iptables-save -t nat` to see what is there, then one
// `iptables-restore --noflush` per family. The backend (nft or legacy) is
// the one that already holds rules in this namespace, else the system's
// default `iptables-restore`: two backends with rules would split the
// pod's NAT table between two kernels' views.
//
// Exit status: 0 done, 1 a binary refused the rules, 2 bad arguments or no
// iptables binaries.

namespace sluice::capture {

int runIptablesCommand(int argc, char** argv, int first);

}  // namespace sluice::capture
