#include "tests/integration/support/stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::itest {

namespace {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string errText(int err) { return err == 0 ? "EOF" : std::strerror(err); }

}  // namespace

uint64_t PatternGen::word(uint64_t index) const {
  return splitmix64(seed_ * 0xD1B54A32D192ED03ULL + index);
}

void PatternGen::fill(char* out, size_t n) {
  while (n > 0) {
    uint64_t index = offset_ / 8;
    size_t within = offset_ % 8;
    if (within == 0 && n >= 8) {
      size_t words = n / 8;
      for (size_t i = 0; i < words; ++i) {
        uint64_t w = word(index + i);
        std::memcpy(out + i * 8, &w, 8);
      }
      out += words * 8;
      n -= words * 8;
      offset_ += words * 8;
      continue;
    }
    uint64_t w = word(index);
    size_t take = std::min(8 - within, n);
    std::memcpy(out, reinterpret_cast<const char*>(&w) + within, take);
    out += take;
    n -= take;
    offset_ += take;
  }
}

void Checksum::update(const void* data, size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  bytes_ += n;
  while (tail_len_ > 0 && n > 0) {
    tail_ |= static_cast<uint64_t>(*p++) << (8 * tail_len_);
    --n;
    if (++tail_len_ == 8) {
      mix(tail_);
      tail_ = 0;
      tail_len_ = 0;
    }
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    tail_ |= static_cast<uint64_t>(*p++) << (8 * tail_len_++);
    --n;
  }
}

uint64_t Checksum::value() const {
  return splitmix64(h_ ^ splitmix64(tail_ + tail_len_) ^ (bytes_ * 0x2545F4914F6CDD1DULL));
}

uint64_t patternChecksum(uint64_t seed, uint64_t length) {
  PatternGen gen(seed);
  Checksum sum;
  std::vector<char> buf(1 << 20);
  while (length > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(length, buf.size()));
    gen.fill(buf.data(), n);
    sum.update(buf.data(), n);
    length -= n;
  }
  return sum.value();
}

std::string patternBytes(uint64_t seed, size_t n) {
  std::string s(n, '\0');
  PatternGen(seed).fill(s.data(), n);
  return s;
}

ssize_t StreamReader::readOnce(size_t max, Deadline deadline) {
  if (eof_) return 0;
  if (buf_.size() < max) buf_.resize(max);
  int err = 0;
  ssize_t n = recvSome(fd_, buf_.data(), max, deadline, &err);
  if (n > 0) {
    sum_.update(buf_.data(), static_cast<size_t>(n));
  } else if (n == 0) {
    eof_ = true;
  } else {
    err_ = err;
  }
  return n;
}

bool StreamReader::readToEof(Deadline deadline, size_t chunk, std::chrono::microseconds pause) {
  for (;;) {
    ssize_t n = readOnce(chunk, deadline);
    if (n == 0) return true;
    if (n < 0) return false;
    if (pause.count() > 0) {
      timespec ts{static_cast<time_t>(pause.count() / 1'000'000),
                  static_cast<long>(pause.count() % 1'000'000) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
}

std::string StreamReader::describe() const {
  return std::to_string(bytes()) + " bytes, then " +
         (eof_ ? std::string("EOF") : err_ ? std::strerror(err_) : std::string("still open"));
}

std::string TransferResult::describe() const {
  return "sent " + std::to_string(sent) + (send_done ? " (done)" : " (" + errText(send_err) + ")") +
         ", received " + std::to_string(received) +
         (eof ? " then EOF" : " then " + errText(recv_err));
}

TransferResult transfer(int fd, const TransferOptions& opts, Deadline deadline) {
  TransferResult r;
  PatternGen gen(opts.send_seed);
  Checksum sum;
  std::vector<char> out(256 * 1024);
  size_t out_pos = 0, out_len = 0;
  std::vector<char> in(256 * 1024);
  bool sending = opts.send_len > 0;
  if (!sending) {
    r.send_done = true;
    if (opts.shutdown_after_send) ::shutdown(fd, SHUT_WR);
  }
  bool receiving = true;
  while (sending || receiving) {
    pollfd p{fd, static_cast<short>((sending ? POLLOUT : 0) | (receiving ? POLLIN : 0)), 0};
    int n = ::poll(&p, 1, deadline.pollMs());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (sending) r.send_err = ETIMEDOUT;
      if (receiving) r.recv_err = ETIMEDOUT;
      break;
    }
    if (receiving && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t got = ::recv(fd, in.data(), in.size(), MSG_DONTWAIT);
      if (got > 0) {
        sum.update(in.data(), static_cast<size_t>(got));
        r.received += static_cast<uint64_t>(got);
      } else if (got == 0) {
        r.eof = true;
        receiving = false;
      } else if (errno != EAGAIN && errno != EINTR) {
        r.recv_err = errno;
        receiving = false;
      }
    }
    if (sending && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (out_pos == out_len) {
        out_len = static_cast<size_t>(std::min<uint64_t>(out.size(), opts.send_len - r.sent));
        gen.fill(out.data(), out_len);
        out_pos = 0;
      }
      ssize_t put = ::send(fd, out.data() + out_pos, out_len - out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (put > 0) {
        out_pos += static_cast<size_t>(put);
        r.sent += static_cast<uint64_t>(put);
        if (opts.sent_progress) opts.sent_progress->store(r.sent, std::memory_order_relaxed);
        if (r.sent == opts.send_len) {
          sending = false;
          r.send_done = true;
          if (opts.shutdown_after_send) ::shutdown(fd, SHUT_WR);
        }
      } else if (put < 0 && errno != EAGAIN && errno != EINTR) {
        r.send_err = errno;
        sending = false;
      }
    }
  }
  r.received_checksum = sum.value();
  return r;
}

}  // namespace sluice::itest
