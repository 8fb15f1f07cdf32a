// Access log formatting (JSON and format strings), response flag codes, and
// the buffered file writer: lines from several threads arrive whole, once.
#include "proxy/http/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

// Counts heap allocations made by the current thread, to check that format()
// allocates nothing but the growth of its output string.
namespace {
thread_local uint64_t tl_allocations = 0;
}  // namespace

// Not inlined: GCC would otherwise see free() of an operator-new pointer and warn.
[[gnu::noinline]] void* operator new(std::size_t n) {
  ++tl_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++tl_allocations;
  return std::malloc(n ? n : 1);
}
// Every replaced delete must pair with a replaced new: this file's
// replacements apply to the whole test binary (std::stable_sort uses the
// nothrow form, for one).
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace sluice::http {
namespace {

using namespace std::chrono;
using nlohmann::json;

std::shared_ptr<const AccessLogFormatter> mustCreate(const std::string& format) {
  std::string error;
  auto f = AccessLogFormatter::create(format, &error);
  EXPECT_TRUE(f) << error;
  return f;
}

std::string render(const std::string& format, const StreamInfo& info) {
  auto f = mustCreate(format);
  std::string out;
  if (f) f->format(info, out);
  return out;
}

StreamInfo fullInfo() {
  StreamInfo info;
  info.start = event::MonoTime{} + seconds(100);
  info.end = info.start + microseconds(12345);
  info.start_wall = sys_days{year{2024} / 3 / 5} + hours(13) + minutes(4) + seconds(5) + milliseconds(678);
  info.status = 503;
  info.setFlag(ResponseFlag::UpstreamConnectionFailure);
  info.setFlag(ResponseFlag::UpstreamRequestTimeout);
  info.request_body_bytes = 17;
  info.response_body_bytes = 4096;
  info.upstream_host = "10.1.2.3:8080";
  info.upstream_cluster = "backend";
  info.upstream_request_attempt_count = 2;
  info.route_name = "api";
  info.request_id = "req-1";
  info.trace_id = "trace-1";
  info.details = "upstream_connect_timeout";
  info.method = "GET";
  info.path = "/a\"b\\c\nd\te\x01" "f\x1f";
  info.authority = "example.com";
  info.downstream_address = *ip::Address::parse("192.0.2.7:5555");
  info.http2 = true;
  info.grpc = true;
  info.grpc_status = 14;
  return info;
}

TEST(AccessLogJson, EveryKeyWithItsValue) {
  const std::string line = render("json", fullInfo());
  ASSERT_EQ(line.find('\n'), std::string::npos) << line;
  const json j = json::parse(line);
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"time", "method", "path", "original_path", "authority", "status", "response_flags",
                                         "bytes_received", "bytes_sent", "duration_ms", "upstream_host",
                                         "upstream_cluster", "upstream_request_attempt_count", "route",
                                         "request_id", "trace_id",
                                         "downstream_address", "details", "downstream_peer_uri_san",
                                         "downstream_tls_version", "requested_server_name", "protocol",
                                         "grpc_status"}));
  EXPECT_EQ(j["time"], "2024-03-05T13:04:05.678Z");
  EXPECT_EQ(j["protocol"], "HTTP/2");
  EXPECT_EQ(j["grpc_status"], 14);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/a\"b\\c\nd\te\x01" "f\x1f");
  EXPECT_EQ(j["authority"], "example.com");
  ASSERT_TRUE(j["status"].is_number_integer());
  EXPECT_EQ(j["status"], 503);
  EXPECT_EQ(j["response_flags"], "UF,UT");
  EXPECT_EQ(j["bytes_received"], 17);
  EXPECT_EQ(j["bytes_sent"], 4096);
  ASSERT_TRUE(j["duration_ms"].is_number());
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.345);
  EXPECT_NE(line.find("\"duration_ms\":12.345,"), std::string::npos) << line;
  EXPECT_EQ(j["upstream_host"], "10.1.2.3:8080");
  EXPECT_EQ(j["upstream_cluster"], "backend");
  EXPECT_EQ(j["upstream_request_attempt_count"], 2);
  EXPECT_EQ(j["route"], "api");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["trace_id"], "trace-1");
  EXPECT_EQ(j["downstream_address"], "192.0.2.7:5555");
  EXPECT_EQ(j["details"], "upstream_connect_timeout");
  // Control characters as \u00XX, quotes and backslashes escaped.
  EXPECT_NE(line.find(R"("path":"/a\"b\\c\u000ad\u0009e\u0001f\u001f")"), std::string::npos) << line;
}

TEST(AccessLogJson, DownstreamTlsIdentity) {
  StreamInfo info = fullInfo();
  json j = json::parse(render("json", info));
  EXPECT_TRUE(j["downstream_peer_uri_san"].is_null());  // plaintext
  EXPECT_TRUE(j["downstream_tls_version"].is_null());
  EXPECT_TRUE(j["requested_server_name"].is_null());
  net::TlsInfo tls;
  tls.version = "TLSv1.3";
  tls.sni = "api.sluice.test";
  tls.peer_uri_sans = {"spiffe://sluice.test/ns/default/sa/client"};
  tls.peer_spiffe_id = "spiffe://sluice.test/ns/default/sa/client";
  info.downstream_tls = &tls;
  j = json::parse(render("json", info));
  EXPECT_EQ(j["downstream_peer_uri_san"], "spiffe://sluice.test/ns/default/sa/client");
  EXPECT_EQ(j["downstream_tls_version"], "TLSv1.3");
  EXPECT_EQ(j["requested_server_name"], "api.sluice.test");
  EXPECT_EQ(render("%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_TLS_VERSION% %REQUESTED_SERVER_NAME%", info),
            "spiffe://sluice.test/ns/default/sa/client TLSv1.3 api.sluice.test");
  // Several URI SANs, none a SPIFFE ID: all of them, comma-separated.
  tls.peer_spiffe_id.clear();
  tls.peer_uri_sans = {"urn:a", "urn:b"};
  tls.sni.clear();
  EXPECT_EQ(json::parse(render("json", info))["downstream_peer_uri_san"], "urn:a,urn:b");
  EXPECT_EQ(render("%DOWNSTREAM_PEER_URI_SAN% %REQUESTED_SERVER_NAME%", info), "urn:a,urn:b -");
  info.downstream_tls = nullptr;
  EXPECT_EQ(render("%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_TLS_VERSION%", info), "- -");
}

TEST(AccessLogJson, UnsetFields) {
  StreamInfo info;
  const json j = json::parse(render("json", info));
  EXPECT_TRUE(j["duration_ms"].is_null());
  EXPECT_EQ(j["downstream_address"], "-");
  EXPECT_EQ(j["response_flags"], "-");
  EXPECT_EQ(j["status"], 0);
  EXPECT_EQ(j["bytes_sent"], 0);
  EXPECT_EQ(j["path"], "");
  EXPECT_EQ(j["time"], "1970-01-01T00:00:00.000Z");
}

TEST(AccessLogJson, Ipv6AddressAndSubMillisecondDuration) {
  StreamInfo info;
  info.downstream_address = *ip::Address::parse("[2001:db8::1]:443");
  info.start = event::MonoTime{} + seconds(5);
  info.end = info.start + microseconds(7);
  const std::string line = render("json", info);
  const json j = json::parse(line);
  EXPECT_EQ(j["downstream_address"], "[2001:db8::1]:443");
  EXPECT_NE(line.find("\"duration_ms\":0.007,"), std::string::npos) << line;
}

TEST(AccessLogJson, Utf8KeptInvalidBytesReplaced) {
  StreamInfo info;
  info.path = "/caf\xc3\xa9/\xf0\x9f\x98\x80";             // é, 😀
  info.authority = "a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf";  // stray, truncated, surrogate, overlong
  const json j = json::parse(render("json", info));        // strict parser: throws on invalid UTF-8
  EXPECT_EQ(j["path"], "/caf\xc3\xa9/\xf0\x9f\x98\x80");
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(j["authority"], "a" + r + "b" + r + "c" + r + r + r + "d" + r + r);
}

TEST(AccessLogFormat, EveryToken) {
  const std::string fmt =
      "%START_TIME% %METHOD% %PATH% %AUTHORITY% %STATUS% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% "
      "%DURATION% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %ROUTE_NAME% %REQUEST_ID% %TRACE_ID% "
      "%DOWNSTREAM_ADDRESS% %DETAILS%";
  StreamInfo info = fullInfo();
  info.path = "/p";
  EXPECT_EQ(render(fmt, info),
            "2024-03-05T13:04:05.678Z GET /p example.com 503 UF,UT 17 4096 12.345 10.1.2.3:8080 backend api req-1 "
            "trace-1 192.0.2.7:5555 upstream_connect_timeout");
}

// The path as received is kept only when normalization changed it; the
// token and the key then show it, else they repeat the path.
TEST(AccessLogFormat, OriginalPath) {
  StreamInfo info;
  info.path = "/admin";
  EXPECT_EQ(render("%PATH% %ORIGINAL_PATH%", info), "/admin /admin");
  EXPECT_EQ(json::parse(render("json", info))["original_path"], "/admin");
  info.original_path = "/x/../%61dmin";
  EXPECT_EQ(render("%PATH% %ORIGINAL_PATH%", info), "/admin /x/../%61dmin");
  EXPECT_EQ(json::parse(render("json", info))["original_path"], "/x/../%61dmin");
}

TEST(AccessLogFormat, GrpcStatusAndProtocol) {
  StreamInfo info;
  EXPECT_EQ(render("%PROTOCOL% %GRPC_STATUS%", info), "HTTP/1.1 -");
  EXPECT_FALSE(json::parse(render("json", info)).contains("grpc_status"));
  info.http2 = true;
  info.grpc_status = 0;
  EXPECT_EQ(render("%PROTOCOL% %GRPC_STATUS%", info), "HTTP/2 0");
}

TEST(AccessLogFormat, EmptyValuesPrintDash) {
  StreamInfo info;
  EXPECT_EQ(render("[%METHOD%|%PATH%|%AUTHORITY%|%STATUS%|%RESPONSE_FLAGS%|%DURATION%|%UPSTREAM_HOST%|"
                   "%UPSTREAM_CLUSTER%|%ROUTE_NAME%|%REQUEST_ID%|%TRACE_ID%|%DOWNSTREAM_ADDRESS%|%DETAILS%|"
                   "%BYTES_RECEIVED%|%BYTES_SENT%]",
                   info),
            "[-|-|-|-|-|-|-|-|-|-|-|-|-|0|0]");
}

TEST(AccessLogFormat, LiteralTextAndPercent) {
  StreamInfo info;
  info.status = 200;
  EXPECT_EQ(render("100%% done: status=%STATUS%%%", info), "100% done: status=200%");
  EXPECT_EQ(render("%%", info), "%");
  EXPECT_EQ(render("plain text", info), "plain text");
}

TEST(AccessLogFormat, ControlBytesInValuesCannotBreakTheLine) {
  StreamInfo info;
  info.path = "/a\nb\r\x7f";
  EXPECT_EQ(render("%PATH%", info), "/a\\x0ab\\x0d\\x7f");
}

TEST(AccessLogFormat, TrailingNewlineInFormatIsDropped) {
  StreamInfo info;
  info.method = "PUT";
  EXPECT_EQ(render("%METHOD%\n", info), "PUT");
}

TEST(AccessLogFormat, Errors) {
  std::string error;
  EXPECT_FALSE(AccessLogFormatter::create("%METHOD% %NOPE% x", &error));
  EXPECT_NE(error.find("%NOPE%"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(AccessLogFormatter::create("%METHOD% %PATH", &error));
  EXPECT_NE(error.find("%PATH"), std::string::npos) << error;
  EXPECT_NE(error.find("unterminated"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(AccessLogFormatter::create("%method%", &error));  // tokens are case-sensitive
  EXPECT_NE(error.find("%method%"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(AccessLogFormatter::create("", &error));
  EXPECT_FALSE(error.empty());
}

std::string* volatile g_sink;

TEST(AccessLogFormat, FormatAllocatesNothingButOutputGrowth) {
  StreamInfo info = fullInfo();
  for (uint32_t bit = 0; bit < 15; ++bit) info.response_flags |= 1u << bit;  // the longest flag string
  info.downstream_address = *ip::Address::parse("[2001:db8:1234:5678:9abc:def0:1234:5678]:65535");
  auto json_f = mustCreate("json");
  auto text_f = mustCreate(
      "%START_TIME% %METHOD% %PATH% %STATUS% %RESPONSE_FLAGS% %DURATION% %DOWNSTREAM_ADDRESS% %DETAILS%");
  std::string out;
  out.reserve(4096);
  {
    const uint64_t before = tl_allocations;
    g_sink = new std::string(100, 'x');  // the counter is live in this binary
    delete g_sink;
    ASSERT_GT(tl_allocations, before);
  }
  const uint64_t before = tl_allocations;
  json_f->format(info, out);
  text_f->format(info, out);
  EXPECT_EQ(tl_allocations - before, 0u);
  EXPECT_LT(out.size(), 4096u);
}

TEST(AccessLogResponseFlags, Strings) {
  EXPECT_EQ(responseFlagsString(0), "-");
  EXPECT_EQ(responseFlagsString(static_cast<uint32_t>(ResponseFlag::NoRoute)), "NR");
  EXPECT_EQ(responseFlagsString(static_cast<uint32_t>(ResponseFlag::LocalReply)), "LR");
  EXPECT_EQ(responseFlagsString(static_cast<uint32_t>(ResponseFlag::UpstreamRequestTimeout |
                                                      ResponseFlag::UpstreamConnectionFailure)),
            "UF,UT");  // bit order, not argument order
  EXPECT_EQ(responseFlagsString(static_cast<uint32_t>(ResponseFlag::DownstreamConnectionTermination |
                                                      ResponseFlag::UpstreamConnectionTermination |
                                                      ResponseFlag::FaultInjected)),
            "UC,DC,FI");
  EXPECT_EQ(responseFlagsString((1u << 15) - 1), "NR,NC,UH,UF,UT,UC,UPE,UO,DC,DPE,RHT,SI,FI,DI,LR");
  EXPECT_EQ(responseFlagsString(static_cast<uint32_t>(ResponseFlag::Overload)), "OL");
  EXPECT_EQ(responseFlagsString(1u << 21), "-");  // no code for that bit
  EXPECT_EQ(responseFlagsString((1u << 21) | 1u), "NR");
}

TEST(AccessLogResponseFlags, FormatterAgreesWithResponseFlagsString) {
  auto f = mustCreate("%RESPONSE_FLAGS%");
  std::string out;
  StreamInfo info;
  for (uint32_t flags = 0; flags < (1u << 15); ++flags) {
    info.response_flags = flags;
    out.clear();
    f->format(info, out);
    ASSERT_EQ(out, responseFlagsString(flags)) << flags;
  }
}

// Unique per call: the registry keeps a path's fd for the life of the
// process, so a repeated test (--gtest_repeat) must not reuse an unlinked path.
std::string tempPath(const std::string& name) {
  static int n = 0;
  return ::testing::TempDir() + "sluice_access_log_" + std::to_string(getpid()) + "_" + name + "_" +
         std::to_string(n++) + ".log";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AccessLogFile, TwoThreadsEveryLineOnceAndWhole) {
  const std::string path = tempPath("threads");
  unlink(path.c_str());
  std::string error;
  AccessLogFile* file = AccessLogFile::open(path, &error);
  ASSERT_NE(file, nullptr) << error;
  EXPECT_EQ(AccessLogFile::open(path, &error), file);  // one writer per path

  constexpr int kThreads = 2;
  constexpr int kLines = 10000;
  // ~120-byte lines: each thread's buffer passes 64 KiB many times over.
  const std::string padding(100, 'x');
  auto work = [&](int t) {
    std::string line;
    for (int i = 0; i < kLines; ++i) {
      line = "t" + std::to_string(t) + " " + std::to_string(i) + " " + padding + " end";
      file->write(line);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& th : threads) th.join();
  AccessLogFile::flushAll();

  const std::string content = readFile(path);
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.back(), '\n');
  std::set<std::pair<int, int>> seen;
  std::istringstream in(content);
  std::string line;
  size_t count = 0;
  while (std::getline(in, line)) {
    ++count;
    int t = -1, i = -1;
    char pad[128] = {};
    char tail[8] = {};
    ASSERT_EQ(std::sscanf(line.c_str(), "t%d %d %127s %7s", &t, &i, pad, tail), 4) << line;
    ASSERT_EQ(pad, padding) << line;
    ASSERT_STREQ(tail, "end") << line;
    ASSERT_EQ(line, "t" + std::to_string(t) + " " + std::to_string(i) + " " + padding + " end");
    EXPECT_TRUE(seen.insert({t, i}).second) << "duplicate: " << line;
  }
  EXPECT_EQ(count, size_t{kThreads * kLines});
  EXPECT_EQ(seen.size(), size_t{kThreads * kLines});
  EXPECT_EQ(file->droppedLines(), 0u);

  // The exited threads' buffers were reaped; flushing again writes nothing new.
  AccessLogFile::flushAll();
  EXPECT_EQ(readFile(path).size(), content.size());
  unlink(path.c_str());
}

TEST(AccessLogFile, BackgroundWriterFlushesWithoutBeingAsked) {
  const std::string path = tempPath("background");
  unlink(path.c_str());
  std::string error;
  AccessLogFile* file = AccessLogFile::open(path, &error);
  ASSERT_NE(file, nullptr) << error;
  file->write("hello");
  // The writer runs every 100 ms; allow a loaded machine plenty of slack.
  const auto deadline = steady_clock::now() + seconds(10);
  while (readFile(path).empty() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(readFile(path), "hello\n");
  unlink(path.c_str());
}

AccessLogFile* g_exit_file = nullptr;
void writeAfterExitFlush() { g_exit_file->write("late"); }

TEST(AccessLogFileDeathTest, ProcessExitWritesWhatIsBuffered) {
  // A fresh process, so this file is its first: the writer and the exit hook
  // start inside the child.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The child re-runs this body with another pid; the environment carries the path.
  constexpr const char* kPathVar = "SLUICE_ACCESS_LOG_EXIT_TEST_PATH";
  if (!std::getenv(kPathVar)) {
    setenv(kPathVar, tempPath("exit").c_str(), 1);
    unlink(std::getenv(kPathVar));
  }
  const std::string path = std::getenv(kPathVar);
  EXPECT_EXIT(
      {
        std::atexit(writeAfterExitFlush);  // runs after the log's own hook, registered later
        std::string error;
        g_exit_file = AccessLogFile::open(path, &error);
        if (!g_exit_file) std::_Exit(3);
        g_exit_file->write("bye");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(readFile(path), "bye\nlate\n");
  unlink(path.c_str());
  unsetenv(kPathVar);
}

TEST(AccessLogFile, OpenFailureNamesThePath) {
  std::string error;
  EXPECT_EQ(AccessLogFile::open("/nonexistent-sluice-dir/a.log", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent-sluice-dir/a.log"), std::string::npos) << error;
}

TEST(AccessLogFile, StdoutAndStderrOpen) {
  std::string error;
  AccessLogFile* out = AccessLogFile::open("/dev/stdout", &error);
  ASSERT_NE(out, nullptr) << error;
  EXPECT_EQ(AccessLogFile::open("/dev/stdout", &error), out);
  AccessLogFile* err = AccessLogFile::open("/dev/stderr", &error);
  ASSERT_NE(err, nullptr) << error;
  EXPECT_NE(err, out);
  EXPECT_EQ(out->droppedLines(), 0u);
}

}  // namespace
}  // namespace sluice::http
