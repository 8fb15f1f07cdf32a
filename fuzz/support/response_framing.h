#pragma once
// An independent reading of HTTP/1.1 response framing (RFC 9112 6.3) for
// the client codec fuzz target: where a response's head ends, which bytes
// are its body, and where the next response begins. It shares no code with
// proxy/http, and checks no grammar: it is consulted only about responses
// the codec accepted, so it only has to find boundaries, and doing that in a
// few obvious lines is what makes it worth comparing against.

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::fuzz {

struct ResponseFraming {
  bool complete = false;  // the whole response lies within the input
  size_t head_end = 0;    // just past the empty line of the final (non-1xx) head
  size_t end = 0;         // just past the response; the input's size when close-delimited
  int status = 0;
  bool close_delimited = false;  // the body (or a tunnel) runs to the end of the input
  std::string body;              // the payload, chunks decoded
};

// The response starting at `from` in `wire`, after any empty lines and
// interim (1xx but 101) responses. `head_request`: the request was HEAD, so
// no body whatever the head says. `upgrade`: the request asked for an
// upgrade, so a 101 makes the rest of the input a tunnel.
ResponseFraming frameResponse(std::string_view wire, size_t from, bool head_request, bool upgrade);

}  // namespace sluice::fuzz
