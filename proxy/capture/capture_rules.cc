#include "proxy/capture/capture_rules.h"

#include <vector>

namespace sluice::capture {
namespace {

constexpr std::string_view kChains[] = {"SLUICE_INBOUND", "SLUICE_IN_REDIRECT", "SLUICE_OUTPUT", "SLUICE_REDIRECT"};

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

bool isOurChain(std::string_view name) {
  for (auto c : kChains)
    if (c == name) return true;
  return false;
}

std::string_view jumpTarget(std::string_view rule) {
  const size_t j = rule.rfind(" -j ");
  if (j == std::string_view::npos) return {};
  std::string_view target = rule.substr(j + 4);
  return target.substr(0, target.find(' '));
}

}  // namespace

std::string renderRules(const CaptureOptions& o, Family family) {
  const bool v6 = family == Family::V6;
  std::string out;
  auto add = [&](const std::string& line) { out += line + "\n"; };
  add("*nat");
  add("# Our chains; declaring them empties them, so a second run replaces our rules.");
  for (auto c : kChains) add(":" + std::string(c) + " - [0:0]");
  add("# TCP entering the pod, and TCP its processes open.");
  add("-A PREROUTING -p tcp -j SLUICE_INBOUND");
  add("-A OUTPUT -p tcp -j SLUICE_OUTPUT");

  // Inbound: the sidecar's own ports first, then the exclusions, then what is captured.
  add("# Inbound: to the sidecar's inbound port " + std::to_string(o.inbound_port) + ", except its own ports and the exclusions.");
  const std::string in_redirect = " -j SLUICE_IN_REDIRECT";
  if (o.include_all_inbound) {
    for (uint16_t p : o.proxy_ports) add("-A SLUICE_INBOUND -p tcp --dport " + std::to_string(p) + " -j RETURN");
    for (uint16_t p : o.exclude_inbound_ports)
      add("-A SLUICE_INBOUND -p tcp --dport " + std::to_string(p) + " -j RETURN");
    add("-A SLUICE_INBOUND -p tcp" + in_redirect);
  } else {
    for (uint16_t p : o.include_inbound_ports) {
      bool excluded = false;
      for (uint16_t x : o.proxy_ports) excluded = excluded || x == p;
      for (uint16_t x : o.exclude_inbound_ports) excluded = excluded || x == p;
      if (!excluded) add("-A SLUICE_INBOUND -p tcp --dport " + std::to_string(p) + in_redirect);
    }
  }
  add("-A SLUICE_IN_REDIRECT -p tcp -j REDIRECT --to-ports " + std::to_string(o.inbound_port));

  // Outbound: the sidecar's own connections, loopback, then the exclusions.
  add("# Outbound: to the sidecar's outbound port " + std::to_string(o.outbound_port) +
      ", except its own connections (uid " + std::to_string(o.proxy_uid) + "), loopback and the exclusions.");
  add("-A SLUICE_OUTPUT -m owner --uid-owner " + std::to_string(o.proxy_uid) + " -j RETURN");
  add(std::string("-A SLUICE_OUTPUT -d ") + (v6 ? "::1/128" : "127.0.0.0/8") + " -j RETURN");
  for (uint16_t p : o.exclude_outbound_ports)
    add("-A SLUICE_OUTPUT -p tcp --dport " + std::to_string(p) + " -j RETURN");
  for (const auto& c : o.exclude_outbound_cidrs)
    if (c.v6() == v6) add("-A SLUICE_OUTPUT -d " + c.str() + " -j RETURN");
  add("-A SLUICE_OUTPUT -j SLUICE_REDIRECT");
  add("-A SLUICE_REDIRECT -p tcp -j REDIRECT --to-ports " + std::to_string(o.outbound_port));
  add("COMMIT");
  return out;
}

std::string hookRemovals(std::string_view save) {
  std::string out;
  for (std::string_view l : lines(save)) {
    const bool hook = l.rfind("-A PREROUTING ", 0) == 0 || l.rfind("-A OUTPUT ", 0) == 0;
    if (hook && isOurChain(jumpTarget(l))) out += "-D" + std::string(l.substr(2)) + "\n";
  }
  return out;
}

std::string renderCleanup(std::string_view save) {
  std::vector<std::string> present;
  bool in_nat = false;
  for (std::string_view l : lines(save)) {
    if (l.rfind("*", 0) == 0) in_nat = l == "*nat";
    if (!in_nat || l.rfind(":", 0) != 0) continue;
    const std::string_view name = l.substr(1, l.find(' ') - 1);
    if (isOurChain(name)) present.emplace_back(name);
  }
  const std::string hooks = hookRemovals(save);
  if (present.empty() && hooks.empty()) return "";
  // Rules of one of our chains may jump to another: empty them all before deleting any.
  std::string out = "*nat\n" + hooks;
  for (const auto& c : present) out += "-F " + c + "\n";
  for (const auto& c : present) out += "-X " + c + "\n";
  out += "COMMIT\n";
  return out;
}

std::string renderApply(const CaptureOptions& opts, Family family, std::string_view save) {
  std::string rules = renderRules(opts, family);
  const std::string removals = hookRemovals(save);
  if (removals.empty()) return rules;
  // After the chain declarations, before the jumps are added again.
  return rules.insert(rules.find("-A PREROUTING "), removals);
}

}  // namespace sluice::capture
