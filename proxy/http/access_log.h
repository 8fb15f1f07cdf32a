#pragma once
// Access logs. A line is formatted on the worker when a stream ends and
// appended to that worker's own buffer for the file; a background thread
// writes the buffers out every 100 ms (or sooner when one passes 64 KiB).
// The worker never waits on disk: if the writer falls behind by more than
// 8 MiB for a worker, lines are dropped and counted.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/stream_info.h"

namespace sluice::http {

// Renders a StreamInfo as one line (without the trailing newline).
// "json": one JSON object per line with the keys time, method, path,
// original_path (the :path as received, before normalization), authority,
// status, response_flags, bytes_received, bytes_sent, duration_ms,
// upstream_host, upstream_cluster, route, request_id, trace_id,
// downstream_address, details.
// Anything else is a format string with Envoy-style tokens: %START_TIME%
// %METHOD% %PATH% %ORIGINAL_PATH% %AUTHORITY% %STATUS% %RESPONSE_FLAGS% %BYTES_RECEIVED%
// %BYTES_SENT% %DURATION% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %ROUTE_NAME%
// %REQUEST_ID% %TRACE_ID% %DOWNSTREAM_ADDRESS% %DETAILS%; empty values print "-".
class AccessLogFormatter {
 public:
  // Null with *error set for an unknown %TOKEN% or an unterminated one.
  static std::shared_ptr<const AccessLogFormatter> create(const std::string& format, std::string* error);
  void format(const StreamInfo& info, std::string& out) const;  // appends

 private:
  struct Piece {
    bool literal;
    std::string text;  // literal text, or the token name
    int token = 0;     // the token's id (access_log_format.cc) when !literal
  };
  bool json_ = false;
  std::vector<Piece> pieces_;
};

class AccessLogFile {
 public:
  // The process-wide writer for `path` ("/dev/stdout" and "/dev/stderr" write
  // to those fds); opened once, shared by every worker and listener.
  // Null with *error set when the file cannot be opened for append.
  static AccessLogFile* open(const std::string& path, std::string* error);
  // Thread-safe and non-blocking: appends `line` + '\n' to the calling thread's buffer.
  void write(std::string_view line);
  // Writes out everything buffered now (tests, shutdown). Blocks the caller.
  static void flushAll();
  // For logrotate (SIGUSR1, POST /logs/reopen): every file opened by path is
  // flushed, then opened again by its path, and the new file takes the old
  // one's descriptor in one dup3(). Lines buffered before go to the old
  // file, later ones to the new; none is lost or split. A file that cannot
  // be opened keeps writing to the old one and is named in the result.
  struct ReopenResult {
    size_t reopened = 0;
    std::vector<std::string> errors;  // "cannot open PATH for append: why"
  };
  static ReopenResult reopenAll();
  uint64_t droppedLines() const;
  virtual ~AccessLogFile() = default;

 protected:
  AccessLogFile() = default;
};

}  // namespace sluice::http
