// sluice: the data-plane proxy.
#include <cstdio>
#include <cstring>
#include <string>

#include "config/loader.h"
#include "proxy/capture/capture_options.h"
#include "proxy/capture/iptables_command.h"
#include "proxy/server/server.h"

namespace {

const char* kUsage =
    "usage: sluice -c FILE [--admin-address-path PATH]   run the proxy\n"
    "       sluice validate -c FILE                       check a config file and exit\n"
    "       sluice iptables [--dry-run|--cleanup] ...     program transparent capture (sluice iptables --help)\n"
    "       sluice --version | --help\n"
    "\n"
    "  -c, --config FILE          YAML config (see README.md)\n"
    "  --admin-address-path PATH  write the bound admin address here once listening\n"
    "\n"
    "signals: SIGHUP reloads the config file; SIGUSR1 reopens access logs; SIGTERM drains then exits 0; SIGINT exits now.\n";

int usageError(const std::string& msg) {
  std::fprintf(stderr, "sluice: %s\n\n%s", msg.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "iptables") == 0) {
    if (argc > 2 && (std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0)) {
      std::fputs(sluice::capture::kCaptureUsage, stdout);
      return 0;
    }
    return sluice::capture::runIptablesCommand(argc, argv, 2);
  }
  bool validate = false;
  sluice::server::Options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("sluice %s\n", SLUICE_VERSION);
      return 0;
    } else if (a == "validate" && i == 1) {
      validate = true;
    } else if (a == "-c" || a == "--config") {
      if (!value(opts.config_path)) return usageError(a + " needs a file");
    } else if (a == "--admin-address-path") {
      std::string p;
      if (!value(p)) return usageError(a + " needs a path");
      opts.admin_address_path = p;
    } else {
      return usageError("unknown argument '" + a + "'");
    }
  }
  if (opts.config_path.empty()) return usageError("no config file (-c FILE)");

  if (validate) {
    auto r = sluice::config::loadFile(opts.config_path);
    if (!r.config) {
      std::fputs(r.errorText().c_str(), stderr);
      return 1;
    }
    std::printf("%s: ok\n", opts.config_path.c_str());
    return 0;
  }
  sluice::server::Server server(std::move(opts));
  return server.run();
}
