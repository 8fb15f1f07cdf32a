// sluice-test-ca: the test CA (test_ca.h) as a process, for the integration
// tests. Test fixture only.
//   sluice-test-ca --dir DIR --token TOKEN=ns/NS/sa/SA [--token ...]
// writes DIR/root.pem, then DIR/port (atomically) once serving; runs until
// SIGTERM or SIGINT. A file DIR/fail, when present, makes calls fail with
// its text (read at every call).
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/support/test_ca/test_ca.h"

int main(int argc, char** argv) {
  std::string dir;
  sluice::testing::TestCa ca;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dir") {
      dir = value;
    } else if (flag == "--token") {
      const auto eq = value.find('=');
      if (eq == std::string::npos) return 2;
      ca.addToken(value.substr(0, eq), value.substr(eq + 1));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (dir.empty()) return 2;
  ca.setFailureFile(dir + "/fail");
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  { std::ofstream(dir + "/root.pem") << ca.rootPem(); }
  const int port = ca.start();
  if (port == 0) return 1;
  { std::ofstream(dir + "/port.tmp") << port << "\n"; }
  std::rename((dir + "/port.tmp").c_str(), (dir + "/port").c_str());
  int sig = 0;
  sigwait(&mask, &sig);
  ca.stop();
  std::_Exit(0);
}
