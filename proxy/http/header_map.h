#pragma once
// HeaderMap: an ordered list of header fields backed by one byte arena.
//
// - Lookups are case-insensitive (ASCII); names keep the case they were added
//   with. HTTP/2-style pseudo-headers (":method", ":path", ":authority",
//   ":scheme", ":status") carry the request/status line so both codecs share
//   one message shape; they always sort before regular fields.
// - No heap allocation per field: names and values are copied into one arena
//   string and indexed by offsets; clear() keeps the capacity, so a map reused
//   for the next request on a connection allocates nothing.
// - string_views returned by get()/forEach() are valid until the next
//   mutation of the map.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/util/byte_arena.h"

namespace sluice::http {

namespace headers {
inline constexpr std::string_view kMethod = ":method";
inline constexpr std::string_view kPath = ":path";
inline constexpr std::string_view kAuthority = ":authority";
inline constexpr std::string_view kScheme = ":scheme";
inline constexpr std::string_view kStatus = ":status";
// Not on the wire: the HTTP/1 minor version of the message ("0" or "1").
inline constexpr std::string_view kHttp1Minor = ":http1-minor";
}  // namespace headers

// ASCII case folding. Inline: most calls compare a name with a constant
// and end at the length check.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i];
    const char y = b[i];
    // Equal, or one letter in two cases.
    if (x != y && ((x | 0x20) != (y | 0x20) || static_cast<unsigned char>((x | 0x20) - 'a') > 'z' - 'a')) return false;
  }
  return true;
}

class HeaderMap {
 public:
  HeaderMap() = default;
  // A map that dies leaves its storage to the thread's next new map
  // (util/recycled_storage.h): a stream's maps allocate nothing per request.
  ~HeaderMap();
  HeaderMap(const HeaderMap&) = default;
  HeaderMap& operator=(const HeaderMap&) = default;
  HeaderMap(HeaderMap&&) noexcept = default;
  HeaderMap& operator=(HeaderMap&&) noexcept = default;

  void add(std::string_view name, std::string_view value);
  // Removes every field named `name`, then adds one.
  void set(std::string_view name, std::string_view value);
  // Returns how many fields were removed.
  size_t remove(std::string_view name);
  // The first field named `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Number of live fields (pseudo-headers included).
  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  // Bytes of names and values of live fields (for header size limits).
  size_t byteSize() const { return bytes_; }
  void clear();

  // f(name, value) for each live field, pseudo-headers first, then in insertion order.
  template <class F>
  void forEach(F&& f) const {
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& s : slots_) {
        if (s.removed) continue;
        const std::string_view n = view(s.name_off, s.name_len);
        if ((pass == 0) != (!n.empty() && n[0] == ':')) continue;
        f(n, view(s.value_off, s.value_len));
      }
    }
  }

  // f(name, value) for each live regular field (no pseudo-headers), in
  // insertion order: one walk, for encoders that write pseudo-headers their own way.
  template <class F>
  void forEachField(F&& f) const {
    for (const auto& s : slots_) {
      if (s.removed) continue;
      const std::string_view n = view(s.name_off, s.name_len);
      if (!n.empty() && n[0] == ':') continue;
      f(n, view(s.value_off, s.value_len));
    }
  }

  // Convenience for pseudo-headers.
  std::string_view method() const { return get(headers::kMethod).value_or(""); }
  std::string_view path() const { return get(headers::kPath).value_or(""); }
  std::string_view authority() const { return get(headers::kAuthority).value_or(""); }
  // Status as a number, 0 when absent or malformed.
  int status() const;
  void setStatus(int status);

 private:
  struct Slot {
    uint32_t name_off;
    uint32_t name_len;
    uint32_t value_off;
    uint32_t value_len;
    bool removed;
  };
  std::string_view view(uint32_t off, uint32_t len) const { return {arena_.data() + off, len}; }

  static constexpr size_t kInitialFields = 16;
  static constexpr size_t kInitialBytes = 512;

  // Bit (length % 64) is set for each name length added since the last
  // clear(): most lookups on the request path are for fields that are not
  // there (x-request-id, traceparent, connection, ...), and this answers
  // them without walking the slots.
  bool mayHaveLength(size_t n) const { return (name_lengths_ >> (n & 63)) & 1; }

  util::ByteArena arena_;
  std::vector<Slot> slots_;
  uint64_t name_lengths_ = 0;
  size_t live_ = 0;
  size_t bytes_ = 0;
};

}  // namespace sluice::http
