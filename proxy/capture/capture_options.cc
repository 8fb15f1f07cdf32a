#include "proxy/capture/capture_options.h"

#include <charconv>
#include <string_view>

namespace sluice::capture {

const char* const kCaptureUsage =
    "usage: sluice iptables [options]     program transparent capture in this network namespace\n"
    "\n"
    "  --outbound-port PORT            outbound listener (default 15001)\n"
    "  --inbound-port PORT             inbound listener (default 15006)\n"
    "  --proxy-uid UID                 the sidecar's uid, never captured (default 1337)\n"
    "  --exclude-outbound-ports LIST   destination ports left alone (80,443)\n"
    "  --exclude-outbound-cidrs LIST   destination prefixes left alone (10.0.0.0/8,fd00::/8)\n"
    "  --include-inbound-ports '*'|LIST  inbound ports captured (default '*'; '' = none)\n"
    "  --exclude-inbound-ports LIST    inbound ports left alone (with '*')\n"
    "  --proxy-ports LIST              the sidecar's own ports, never captured inbound (default 15020,15021)\n"
    "  --ipv6 auto|on|off              ip6tables too (default auto: when available)\n"
    "  --backend auto|nft|legacy       iptables backend (default auto: the one holding rules)\n"
    "  --dry-run                       print the rules (iptables-restore format) and exit\n"
    "  --cleanup                       remove the rules and chains this command added\n";

namespace {

bool parsePort(std::string_view text, uint16_t& out) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

std::vector<std::string_view> splitList(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    out.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool parsePorts(const std::string& flag, std::string_view text, std::vector<uint16_t>& out, std::string& error) {
  out.clear();
  for (std::string_view item : splitList(text)) {
    uint16_t p = 0;
    if (!parsePort(item, p)) {
      error = flag + ": '" + std::string(item) + "' is not a port (1-65535)";
      return false;
    }
    out.push_back(p);
  }
  return true;
}

}  // namespace

bool parseCaptureArgs(int argc, char** argv, int first, CaptureOptions& out, std::string& error) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& v) {
      if (i + 1 >= argc) {
        error = a + " needs a value";
        return false;
      }
      v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--dry-run") {
      out.dry_run = true;
    } else if (a == "--cleanup") {
      out.cleanup = true;
    } else if (a == "--outbound-port" || a == "--inbound-port") {
      if (!value(v)) return false;
      uint16_t& port = a == "--outbound-port" ? out.outbound_port : out.inbound_port;
      if (!parsePort(v, port)) {
        error = a + ": '" + v + "' is not a port (1-65535)";
        return false;
      }
    } else if (a == "--proxy-uid") {
      if (!value(v)) return false;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out.proxy_uid);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
        error = a + ": '" + v + "' is not a uid";
        return false;
      }
    } else if (a == "--exclude-outbound-ports") {
      if (!value(v) || !parsePorts(a, v, out.exclude_outbound_ports, error)) return false;
    } else if (a == "--exclude-inbound-ports") {
      if (!value(v) || !parsePorts(a, v, out.exclude_inbound_ports, error)) return false;
    } else if (a == "--proxy-ports") {
      if (!value(v) || !parsePorts(a, v, out.proxy_ports, error)) return false;
    } else if (a == "--include-inbound-ports") {
      if (!value(v)) return false;
      out.include_all_inbound = v == "*";
      out.include_inbound_ports.clear();
      if (!out.include_all_inbound && !parsePorts(a, v, out.include_inbound_ports, error)) return false;
    } else if (a == "--exclude-outbound-cidrs") {
      if (!value(v)) return false;
      out.exclude_outbound_cidrs.clear();
      for (std::string_view item : splitList(v)) {
        std::string why;
        auto c = ip::Cidr::parse(item, &why);
        if (!c) {
          error = a + ": '" + std::string(item) + "': " + why;
          return false;
        }
        out.exclude_outbound_cidrs.push_back(*c);
      }
    } else if (a == "--ipv6") {
      if (!value(v)) return false;
      if (v == "auto") out.ipv6 = CaptureOptions::Ipv6::Auto;
      else if (v == "on") out.ipv6 = CaptureOptions::Ipv6::On;
      else if (v == "off") out.ipv6 = CaptureOptions::Ipv6::Off;
      else {
        error = a + ": expected auto, on or off, not '" + v + "'";
        return false;
      }
    } else if (a == "--backend") {
      if (!value(v)) return false;
      if (v == "auto") out.backend = CaptureOptions::Backend::Auto;
      else if (v == "nft") out.backend = CaptureOptions::Backend::Nft;
      else if (v == "legacy") out.backend = CaptureOptions::Backend::Legacy;
      else {
        error = a + ": expected auto, nft or legacy, not '" + v + "'";
        return false;
      }
    } else {
      error = "unknown argument '" + a + "'";
      return false;
    }
  }
  if (out.inbound_port == out.outbound_port) {
    error = "--inbound-port and --outbound-port must differ";
    return false;
  }
  if (out.dry_run && out.cleanup) {
    // A dry run prints what would be added; cleanup's work depends on what is there.
    error = "--dry-run and --cleanup do not go together";
    return false;
  }
  return true;
}

}  // namespace sluice::capture
