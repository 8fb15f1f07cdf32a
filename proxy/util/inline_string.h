#pragma once
// A string that keeps up to N bytes inline and only allocates beyond that:
// for per-request values that are almost always short (request and trace
// ids), so that recording them costs no heap allocation.

#include <cstddef>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

namespace sluice::util {

template <size_t N>
class InlineString {
 public:
  InlineString() = default;
  InlineString(std::string_view s) { assign(s); }  // NOLINT: implicit, like std::string
  InlineString& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  void assign(std::string_view s) {
    if (s.size() <= N) {
      std::memcpy(buf_, s.data(), s.size());
      len_ = s.size();
      heap_.clear();
    } else {
      heap_.assign(s);
      len_ = kOnHeap;
    }
  }
  void clear() {
    len_ = 0;
    heap_.clear();
  }
  std::string_view view() const { return len_ == kOnHeap ? std::string_view(heap_) : std::string_view(buf_, len_); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit on purpose
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }
  std::string str() const { return std::string(view()); }

  friend bool operator==(const InlineString& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& o, const InlineString& s) { return o << s.view(); }

 private:
  static constexpr size_t kOnHeap = static_cast<size_t>(-1);
  char buf_[N];
  size_t len_ = 0;
  std::string heap_;  // only for values longer than N
};

}  // namespace sluice::util
