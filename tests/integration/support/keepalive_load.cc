#include "tests/integration/support/keepalive_load.h"

#include "tests/integration/support/http_client.h"

namespace sluice::itest {

using namespace std::chrono_literals;

KeepAliveLoad::KeepAliveLoad(uint16_t port, int clients, bool reconnect, std::string new_prefix, Millis limit)
    : port_(port), reconnect_(reconnect), new_prefix_(std::move(new_prefix)), until_(Clock::now() + limit) {
  for (int t = 0; t < clients; ++t) threads_.emplace_back([this, t] { run(t); });
}

void KeepAliveLoad::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

KeepAliveLoad::Totals KeepAliveLoad::totals() {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

bool KeepAliveLoad::over() const { return stop_ || Clock::now() >= until_; }

void KeepAliveLoad::run(int t) {
  Totals mine;
  for (int n = 0; !over();) {
    RawHttpClient client(port_, 500ms);
    if (!client.connected()) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    ++mine.connects;
    bool open = true;
    while (open && !over()) {
      const std::string path = "/d/" + std::to_string(t) + "/" + std::to_string(n++);
      HttpReply r = client.roundTrip(getRequest(path), 3000ms);
      if (!r.complete || r.status != 200) {
        ++mine.cut;
        if (mine.first_cut.empty()) mine.first_cut = path + ": " + r.describe();
        break;
      }
      ++mine.ok;
      ++ok_;
      if (!new_prefix_.empty() && r.body.rfind(new_prefix_, 0) == 0) {
        ++mine.by_body_prefix_new;
        ++new_;
      }
      const auto c = r.header("connection");
      if (c && *c == "close") {
        ++mine.told_to_close;
        open = false;
      }
    }
    if (!reconnect_ && mine.told_to_close > 0) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  totals_.ok += mine.ok;
  totals_.cut += mine.cut;
  totals_.told_to_close += mine.told_to_close;
  totals_.connects += mine.connects;
  totals_.by_body_prefix_new += mine.by_body_prefix_new;
  if (totals_.first_cut.empty()) totals_.first_cut = mine.first_cut;
}

}  // namespace sluice::itest
