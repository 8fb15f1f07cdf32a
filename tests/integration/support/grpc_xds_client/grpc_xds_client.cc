// A proxyless gRPC client on gRPC C++ (Debian's libgrpc++, whose core
// resolves `xds:///NAME` itself through the xDS server named by the
// bootstrap file in GRPC_XDS_BOOTSTRAP): the same modes and output as
// daemon_grpc_proxyless.js, so a test runs either client and reads the same
// JSON. It calls sluice.test.Echo/Unary of daemon_grpc_echo.js servers,
// whose replies name the server. Every call has a 5 s deadline.
//
//   GRPC_XDS_BOOTSTRAP=bootstrap.json grpc-xds-client count TARGET N
//       N calls one after another on one channel; one JSON line:
//       {"ok", "failed", "by_server": {NAME: calls}, "errors": [first few]}
//   ... grpc-xds-client until TARGET NAME TIMEOUT_MS
//       calls every 20 ms on one channel; prints {"first": NAME} after the
//       first answer, then {"reached": true|false, "after_ms", "calls",
//       "failed", "by_server", "errors"} once NAME answers (after_ms counted
//       from the first answer's line) or TIMEOUT_MS passes.
//
// Exits 0 when every call succeeded, 1 when one failed, 2 on bad arguments.

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Tally {
  int ok = 0;
  int failed = 0;
  std::map<std::string, int> by_server;
  std::vector<std::string> errors;  // the first few

  // The answering server's name, or "" when the call failed.
  std::string call(sluice::test::Echo::Stub& stub, int i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    sluice::test::EchoRequest request;
    request.set_count(i);
    sluice::test::EchoReply reply;
    const grpc::Status status = stub.Unary(&ctx, request, &reply);
    if (!status.ok()) {
      ++failed;
      if (errors.size() < 5) errors.push_back(std::to_string(status.error_code()) + " " + status.error_message());
      return "";
    }
    ++ok;
    ++by_server[reply.text()];
    return reply.text();
  }
};

void print(const json& line) {
  std::cout << line.dump() << std::endl;  // flushed: a test polls the file
}

int count(sluice::test::Echo::Stub& stub, int n) {
  Tally t;
  for (int i = 0; i < n; ++i) t.call(stub, i);
  print({{"ok", t.ok}, {"failed", t.failed}, {"by_server", t.by_server}, {"errors", t.errors}});
  return t.failed == 0 ? 0 : 1;
}

int until(sluice::test::Echo::Stub& stub, const std::string& name, long timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Tally t;
  int calls = 0;
  std::optional<Clock::time_point> first_at;
  bool reached = false;
  while (!reached && Clock::now() < deadline) {
    const std::string server = t.call(stub, calls++);
    if (!server.empty() && !first_at) {
      first_at = Clock::now();
      print({{"first", server}});
    }
    reached = server == name;
    if (!reached) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  json out = {{"reached", reached}, {"calls", calls}, {"failed", t.failed}, {"by_server", t.by_server}, {"errors", t.errors}};
  if (reached) {
    out["after_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *first_at).count();
  }
  print(out);
  return t.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool is_count = args.size() == 3 && args[0] == "count";
  const bool is_until = args.size() == 4 && args[0] == "until";
  if (!is_count && !is_until) {
    std::fprintf(stderr, "usage: %s count TARGET N | until TARGET NAME TIMEOUT_MS\n", argv[0]);
    return 2;
  }
  const auto channel = grpc::CreateChannel(args[1], grpc::InsecureChannelCredentials());
  const auto stub = sluice::test::Echo::NewStub(channel);
  return is_count ? count(*stub, std::atoi(args[2].c_str())) : until(*stub, args[2], std::atol(args[3].c_str()));
}
