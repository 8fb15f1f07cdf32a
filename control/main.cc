// sluice-control: the control plane. Serves control.yaml's groups over ADS.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "control/ca/bootstrap_token.h"
#include "control/check_report.h"
#include "control/control_config.h"
#include "control/control_daemon.h"
#include "control/control_log.h"
#include "control/kubernetes/inject_command.h"
#include "control/status_client.h"
#include "control/status_report.h"

namespace {

const char* kUsage =
    "usage: sluice-control -c FILE [--log-level LEVEL] [--address-path PATH]   run the control plane\n"
    "       sluice-control validate -c FILE                                     check a control config and exit\n"
    "       sluice-control check -c FILE [--full]                               what each proxy of the mesh will get\n"
    "       sluice-control status [--admin HOST:PORT]                           connected proxies and their sync "
    "state\n"
    "       sluice-control token --key FILE --namespace NS --service-account SA  print a CA bootstrap token\n"
    "       sluice-control inject -c FILE -f POD.yaml [--patch]                 the pod with the sidecar the webhook "
    "adds\n"
    "       sluice-control --version | --help\n"
    "\n"
    "  -c, --config FILE    control config (see config/examples/xds/control.yaml); watched for edits\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  --address-path PATH  once listening, write \"ads HOST:PORT\", \"admin HOST:PORT\" (and \"webhook\", \"ca\") "
    "lines here\n"
    "                       (and \"webhook HOST:PORT\" with an injection: block)\n"
    "  --admin HOST:PORT    the running daemon's admin address (default 127.0.0.1:15000)\n"
    "  --key FILE           a key file named in ca.token_keys\n"
    "  --full               check: print each mesh proxy's computed sluice YAML too\n"
    "  -f FILE              inject: a Pod or a workload with a pod template (YAML or JSON; - is stdin)\n"
    "  --patch              inject: print the JSON Patch instead of the patched object\n"
    "\n"
    "status prints one line per connected proxy per resource type: the version sent, the version\n"
    "ACKed and SYNCED, STALE (sent, not yet ACKed) or NACKED with the proxy's error; it exits 1\n"
    "when the daemon cannot be reached.\n"
    "\n"
    "signals: SIGHUP reloads the config file now (and the webhook's cert_file and key_file); SIGTERM and\n"
    "SIGINT stop the servers and exit 0.\n";

int usageError(const std::string& msg) {
  std::fprintf(stderr, "sluice-control: %s\n\n%s", msg.c_str(), kUsage);
  return 2;
}

int runStatus(const std::string& admin) {
  const auto reply = sluice::control::adminGet(admin, "/status");
  if (reply.status == 0) {
    std::fprintf(stderr, "sluice-control: cannot reach the daemon's admin endpoint at %s: %s\n", admin.c_str(),
                 reply.error.c_str());
    return 1;
  }
  if (reply.status != 200) {
    std::fprintf(stderr, "sluice-control: %s/status answered %d\n", admin.c_str(), reply.status);
    return 1;
  }
  const auto doc = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  std::vector<sluice::control::StatusRow> rows;
  std::string error;
  if (doc.is_discarded() || !sluice::control::statusRows(doc, rows, error)) {
    std::fprintf(stderr, "sluice-control: %s/status: %s\n", admin.c_str(),
                 doc.is_discarded() ? "not JSON" : error.c_str());
    return 1;
  }
  std::fputs(sluice::control::formatStatusTable(rows).c_str(), stdout);
  // The config's own state goes to stderr: stdout stays one line per proxy and type.
  if (doc.contains("config") && doc["config"].is_object())
    std::fprintf(stderr, "config %s version %s\n", doc["config"].value("file", "").c_str(),
                 doc["config"].value("version", "").c_str());
  if (doc.contains("last_rejection") && doc["last_rejection"].is_object()) {
    const auto& rej = doc["last_rejection"];
    std::fprintf(stderr, "last edit refused at %s:\n", rej.value("at", "").c_str());
    if (rej.contains("errors") && rej["errors"].is_array())
      for (const auto& e : rej["errors"])
        if (e.is_string()) std::fprintf(stderr, "  %s\n", e.get<std::string>().c_str());
  }
  return 0;
}

int runToken(const std::string& key_file, const std::string& ns, const std::string& sa) {
  if (key_file.empty() || ns.empty() || sa.empty())
    return usageError("token needs --key FILE, --namespace NS and --service-account SA");
  if (const std::string why = sluice::control::ca::checkNamespace(ns); !why.empty())
    return usageError("namespace '" + ns + "' " + why);
  if (const std::string why = sluice::control::ca::checkServiceAccount(sa); !why.empty())
    return usageError("service account '" + sa + "' " + why);
  std::string key, error;
  if (!sluice::control::ca::readTokenKey(key_file, key, error)) {
    std::fprintf(stderr, "sluice-control: %s: %s\n", key_file.c_str(), error.c_str());
    return 1;
  }
  std::printf("%s\n", sluice::control::ca::mintToken(key, {ns, sa}).c_str());
  return 0;
}

bool writeAddresses(const std::string& path, const std::string& ads, const std::string& admin,
                    const std::string& webhook, const std::string& ca) {
  // Written whole then renamed: a reader never sees half of it.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "ads " << ads << "\nadmin " << admin << "\n";
    if (!webhook.empty()) out << "webhook " << webhook << "\n";
    if (!ca.empty()) out << "ca " << ca << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int runDaemon(const std::string& config_path, const std::string& address_path) {
  // Blocked before any thread starts, so every thread inherits the mask and
  // only the loop below takes them (sigtimedwait), between ticks.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer gone mid-write is an error on that socket, not the end of the process.
  signal(SIGPIPE, SIG_IGN);

  sluice::control::ControlDaemon daemon(config_path);
  std::string errors;
  if (!daemon.start(errors)) {
    std::fputs(errors.c_str(), stderr);
    return 1;
  }
  if (!address_path.empty() && !writeAddresses(address_path, daemon.adsAddress(), daemon.adminAddress(),
                                               daemon.webhookAddress(), daemon.caAddress())) {
    std::fprintf(stderr, "sluice-control: cannot write %s: %s\n", address_path.c_str(), std::strerror(errno));
    daemon.stop();
    return 1;
  }
  for (;;) {
    using Clock = sluice::control::ControlDaemon::Clock;
    const auto wait = daemon.nextTick(Clock::now());
    timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000};
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      sluice::control::log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                                 ": shutting down");
      break;
    }
    if (sig == SIGHUP) {
      sluice::control::log::info("received SIGHUP: reloading " + config_path);
      daemon.reloadNow();
      continue;
    }
    daemon.tick(Clock::now());
  }
  daemon.stop();
  sluice::control::log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  enum class Mode { Run, Validate, Check, Status, Token, Inject } mode = Mode::Run;
  bool full = false, patch_only = false;
  std::string object_path;
  std::string config_path, address_path, admin = "127.0.0.1:15000";
  std::string key_file, ns, sa;
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
      std::printf("sluice-control %s\n", SLUICE_VERSION);
      return 0;
    } else if (a == "validate" && i == 1) {
      mode = Mode::Validate;
    } else if (a == "check" && i == 1) {
      mode = Mode::Check;
    } else if (a == "--full" && mode == Mode::Check) {
      full = true;
    } else if (a == "status" && i == 1) {
      mode = Mode::Status;
    } else if (a == "token" && i == 1) {
      mode = Mode::Token;
    } else if (a == "inject" && i == 1) {
      mode = Mode::Inject;
    } else if (a == "-f" && mode == Mode::Inject) {
      if (!value(object_path)) return usageError(a + " needs a file");
    } else if (a == "--patch" && mode == Mode::Inject) {
      patch_only = true;
    } else if (a == "--key" && mode == Mode::Token) {
      if (!value(key_file)) return usageError(a + " needs a file");
    } else if (a == "--namespace" && mode == Mode::Token) {
      if (!value(ns)) return usageError(a + " needs a name");
    } else if (a == "--service-account" && mode == Mode::Token) {
      if (!value(sa)) return usageError(a + " needs a name");
    } else if ((a == "-c" || a == "--config") && mode != Mode::Status && mode != Mode::Token) {
      if (!value(config_path)) return usageError(a + " needs a file");
    } else if (a == "--log-level" && mode == Mode::Run) {
      std::string level;
      if (!value(level)) return usageError(a + " needs a level");
      const auto parsed = sluice::control::log::parseLevel(level);
      if (!parsed) return usageError("unknown log level '" + level + "' (debug, info, warn, error)");
      sluice::control::log::setLevel(*parsed);
    } else if (a == "--address-path" && mode == Mode::Run) {
      if (!value(address_path)) return usageError(a + " needs a path");
    } else if (a == "--admin" && mode == Mode::Status) {
      if (!value(admin)) return usageError(a + " needs HOST:PORT");
    } else {
      return usageError("unknown argument '" + a + "'");
    }
  }
  if (mode == Mode::Status) return runStatus(admin);
  if (mode == Mode::Token) return runToken(key_file, ns, sa);
  if (config_path.empty()) return usageError("no config file (-c FILE)");
  if (mode == Mode::Inject) {
    if (object_path.empty()) return usageError("inject needs -f FILE (a pod or a workload; - for stdin)");
    return sluice::control::kubernetes::runInject(config_path, object_path, patch_only);
  }
  if (mode == Mode::Validate || mode == Mode::Check) {
    const auto r = sluice::control::loadControlFile(config_path);
    if (!r.config) {
      std::fputs(r.errorText().c_str(), stderr);
      return 1;
    }
    if (mode == Mode::Check) {
      std::fputs(sluice::control::checkReport(*r.config, full).c_str(), stdout);
      return 0;
    }
    std::printf("%s: ok (%zu groups)\n", config_path.c_str(), r.config->groups.size());
    return 0;
  }
  return runDaemon(config_path, address_path);
}
