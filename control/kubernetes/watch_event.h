#pragma once
// One line of a watch's body, as the API server writes it:
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}.
// An ERROR's object is a meta/v1 Status; code 410 (Gone) means the
// resourceVersion we watched from is too old and the resource must be
// listed again.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

struct WatchEvent {
  enum class Kind { Added, Modified, Deleted, Bookmark, Gone, Error, Malformed };
  Kind kind = Kind::Malformed;
  nlohmann::json object;        // Added, Modified, Deleted: the object
  std::string resource_version;  // of the object (Bookmark: the one to resume from)
  std::string message;           // Error, Gone, Malformed: why
};

WatchEvent parseWatchEvent(std::string_view line);

// Splits a chunked body into lines as bytes arrive (a line may span chunks,
// a chunk may hold many lines).
class LineSplitter {
 public:
  template <class Fn>
  void feed(std::string_view bytes, Fn&& on_line) {
    pending_.append(bytes);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      if (nl > start) on_line(std::string_view(pending_).substr(start, nl - start));
    pending_.erase(0, start);
  }
  // A last line without '\n' (a watch that ended mid-line is dropped, not this).
  const std::string& rest() const { return pending_; }

 private:
  std::string pending_;
};

}  // namespace sluice::control::kubernetes
