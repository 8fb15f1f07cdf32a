#include "proxy/http/header_map.h"

#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>

#include "proxy/util/recycled_storage.h"

namespace sluice::http {

namespace {
// A live field called `name`, in any case. Most slots differ in length; of
// the rest, most are spelt in the case asked for (HTTP/2 names are lower
// case, and so are the lookups). A template: the slot type is private.
template <class Slot>
inline bool named(const util::ByteArena& arena, const Slot& s, std::string_view name) {
  if (s.name_len != name.size() || s.removed) return false;
  const char* n = arena.data() + s.name_off;
  return std::memcmp(n, name.data(), name.size()) == 0 || equalsIgnoreCase({n, name.size()}, name);
}

struct HeaderArenaTag;
struct HeaderSlotsTag;

}  // namespace

HeaderMap::~HeaderMap() {
  util::RecycledStorage<HeaderSlotsTag, decltype(slots_)>::give(slots_);
  util::RecycledStorage<HeaderArenaTag, decltype(arena_)>::give(arena_);
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  // Offsets are 32-bit: a header block is bounded by codec limits far below 4 GiB.
  assert(arena_.size() + name.size() + value.size() < std::numeric_limits<uint32_t>::max());
  if (slots_.capacity() == 0) {
    // Room for a typical header block at once: growing from empty took
    // about ten reallocations per message, a good part of the per-request
    // malloc time.
    if (!util::RecycledStorage<HeaderSlotsTag, decltype(slots_)>::take(slots_)) slots_.reserve(kInitialFields);
    if (!util::RecycledStorage<HeaderArenaTag, decltype(arena_)>::take(arena_)) arena_.reserve(kInitialBytes);
  }
  Slot s{};
  s.name_off = static_cast<uint32_t>(arena_.size());
  s.name_len = static_cast<uint32_t>(name.size());
  s.value_off = s.name_off + s.name_len;
  s.value_len = static_cast<uint32_t>(value.size());
  char* to = arena_.append(name.size() + value.size());
  if (!name.empty()) std::memcpy(to, name.data(), name.size());
  if (!value.empty()) std::memcpy(to + name.size(), value.data(), value.size());
  s.removed = false;
  slots_.push_back(s);
  name_lengths_ |= uint64_t{1} << (name.size() & 63);
  ++live_;
  bytes_ += name.size() + value.size();
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

size_t HeaderMap::remove(std::string_view name) {
  if (!mayHaveLength(name.size())) return 0;
  size_t n = 0;
  for (auto& s : slots_) {
    if (!named(arena_, s, name)) continue;
    s.removed = true;
    --live_;
    bytes_ -= s.name_len + s.value_len;
    ++n;
  }
  return n;
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  if (!mayHaveLength(name.size())) return std::nullopt;
  for (const auto& s : slots_) {
    if (named(arena_, s, name)) return view(s.value_off, s.value_len);
  }
  return std::nullopt;
}

void HeaderMap::clear() {
  arena_.clear();
  slots_.clear();
  name_lengths_ = 0;
  live_ = 0;
  bytes_ = 0;
}

int HeaderMap::status() const {
  const auto v = get(headers::kStatus);
  if (!v || v->size() != 3) return 0;
  int code = 0;
  for (const char c : *v) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

void HeaderMap::setStatus(int status) {
  char buf[16];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), status);
  set(headers::kStatus, std::string_view(buf, static_cast<size_t>(ptr - buf)));
}

}  // namespace sluice::http
