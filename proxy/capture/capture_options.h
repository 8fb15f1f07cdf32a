#pragma once
// What `sluice iptables` programs: the ports the sidecar listens on for
// captured traffic, who and what is left alone, and how the rules reach the
// kernel. Plain values, read from the command line by parseCaptureArgs.

#include <cstdint>
#include <string>
#include <vector>

#include "ip/cidr.h"

namespace sluice::capture {

struct CaptureOptions {
  enum class Ipv6 { Auto, On, Off };  // Auto: ip6tables when the binary and the kernel have it
  enum class Backend { Auto, Nft, Legacy };

  uint16_t outbound_port = 15001;  // the sidecar's outbound listener (use_original_dst)
  uint16_t inbound_port = 15006;   // the sidecar's inbound listener (use_original_dst)
  // The sidecar's own connections are never captured, or its upstream
  // connections would come back to its outbound listener.
  uint32_t proxy_uid = 1337;
  std::vector<uint16_t> exclude_outbound_ports;
  std::vector<ip::Cidr> exclude_outbound_cidrs;
  // Inbound: every port ('*', the default), or only these. Empty with
  // include_all_inbound false: no inbound capture.
  bool include_all_inbound = true;
  std::vector<uint16_t> include_inbound_ports;
  std::vector<uint16_t> exclude_inbound_ports;
  // The sidecar's own ports that peers reach directly (admin 15020, health
  // 15021): never redirected inbound, so probes and scrapes reach them.
  std::vector<uint16_t> proxy_ports{15020, 15021};

  Ipv6 ipv6 = Ipv6::Auto;
  Backend backend = Backend::Auto;
  bool dry_run = false;  // print the rules; touch nothing
  bool cleanup = false;  // remove our chains and the jumps to them
};

// Reads `sluice iptables` arguments (argv[first..]). Returns false with
// `error` set ("--inbound-port: '70000' is not a port (1-65535)").
bool parseCaptureArgs(int argc, char** argv, int first, CaptureOptions& out, std::string& error);

extern const char* const kCaptureUsage;

}  // namespace sluice::capture
