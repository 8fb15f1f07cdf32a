#include "proxy/capture/iptables_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "proxy/capture/capture_options.h"
#include "proxy/capture/capture_rules.h"

extern char** environ;

namespace sluice::capture {
namespace {

// A binary by name on PATH, or in the sbin folders a non-root PATH lacks.
std::optional<std::string> findTool(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= path.size()) {
    const size_t colon = path.find(':', start);
    const std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      const std::string full = dir + "/" + name;
      if (::access(full.c_str(), X_OK) == 0) return full;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return std::nullopt;
}

struct RunResult {
  int status = -1;  // exit status; -1 when it could not run or was killed
  std::string out;
};

// Runs `argv` with `input` on its stdin, collecting its stdout; stderr
// passes through, so iptables' own message reaches the operator.
RunResult run(const std::vector<std::string>& argv, const std::string& input) {
  RunResult r;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return r;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return r;
  }
  // The rules are a few kB, far below a pipe's buffer: write all, then read.
  size_t off = 0;
  while (off < input.size()) {
    const ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

const char* familyTool(Family f) { return f == Family::V4 ? "iptables" : "ip6tables"; }

std::string suffixOf(CaptureOptions::Backend b) {
  switch (b) {
    case CaptureOptions::Backend::Nft: return "-nft";
    case CaptureOptions::Backend::Legacy: return "-legacy";
    case CaptureOptions::Backend::Auto: break;
  }
  return "";
}

size_t ruleCount(const std::string& save) {
  size_t n = 0;
  for (size_t pos = save.find("\n-A "); pos != std::string::npos; pos = save.find("\n-A ", pos + 1)) ++n;
  return n;
}

// Auto: the backend that already holds rules here (nft first: it is what
// current distributions default to), else the default binaries.
std::string chooseSuffix(const CaptureOptions& o, Family f) {
  if (o.backend != CaptureOptions::Backend::Auto) return suffixOf(o.backend);
  for (auto b : {CaptureOptions::Backend::Nft, CaptureOptions::Backend::Legacy}) {
    const auto save = findTool(std::string(familyTool(f)) + suffixOf(b) + "-save");
    if (!save) continue;
    const RunResult r = run({*save}, "");
    if (r.status == 0 && ruleCount(r.out) > 0) return suffixOf(b);
  }
  return "";
}

// 0 done, 1 refused, 2 binaries missing. `optional`: missing binaries or
// a kernel without this family are a skip with a message, not an error.
int programFamily(const CaptureOptions& o, Family f, bool optional) {
  const std::string suffix = chooseSuffix(o, f);
  const std::string base = std::string(familyTool(f)) + suffix;
  const auto restore = findTool(base + "-restore");
  const auto save = findTool(base + "-save");
  if (!restore || !save) {
    if (optional) {
      std::fprintf(stderr, "sluice iptables: %s-restore not found: IPv6 skipped\n", base.c_str());
      return 0;
    }
    std::fprintf(stderr, "sluice iptables: %s-restore and %s-save not found (install the iptables package)\n",
                 base.c_str(), base.c_str());
    return 2;
  }
  const RunResult current = run({*save, "-t", "nat"}, "");
  if (current.status != 0) {
    if (optional) {
      std::fprintf(stderr, "sluice iptables: %s -t nat failed: IPv6 skipped\n", save->c_str());
      return 0;
    }
    std::fprintf(stderr, "sluice iptables: %s -t nat failed (no NET_ADMIN, or no nat table in this kernel)\n",
                 save->c_str());
    return 1;
  }
  const std::string text = o.cleanup ? renderCleanup(current.out) : renderApply(o, f, current.out);
  if (text.empty()) {
    std::fprintf(stderr, "sluice iptables: %s: nothing of ours to remove\n", base.c_str());
    return 0;
  }
  const RunResult applied = run({*restore, "--noflush"}, text);
  if (applied.status != 0) {
    std::fprintf(stderr, "sluice iptables: %s --noflush refused the rules (exit %d)\n", restore->c_str(),
                 applied.status);
    return 1;
  }
  std::fprintf(stderr, "sluice iptables: %s %s\n", base.c_str(), o.cleanup ? "rules removed" : "rules installed");
  return 0;
}

}  // namespace

int runIptablesCommand(int argc, char** argv, int first) {
  CaptureOptions o;
  std::string error;
  if (!parseCaptureArgs(argc, argv, first, o, error)) {
    std::fprintf(stderr, "sluice iptables: %s\n\n%s", error.c_str(), kCaptureUsage);
    return 2;
  }
  if (o.dry_run) {
    std::printf("# iptables-restore --noflush\n%s", renderRules(o, Family::V4).c_str());
    if (o.ipv6 != CaptureOptions::Ipv6::Off)
      std::printf("# ip6tables-restore --noflush\n%s", renderRules(o, Family::V6).c_str());
    return 0;
  }
  const int v4 = programFamily(o, Family::V4, /*optional=*/false);
  if (v4 != 0 || o.ipv6 == CaptureOptions::Ipv6::Off) return v4;
  return programFamily(o, Family::V6, /*optional=*/o.ipv6 == CaptureOptions::Ipv6::Auto);
}

}  // namespace sluice::capture
