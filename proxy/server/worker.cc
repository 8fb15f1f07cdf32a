#include "proxy/server/worker.h"

#include <pthread.h>

#include <string>

#include "proxy/redis/redis_client.h"
#include "proxy/stats/named_counters.h"

namespace sluice::server {

Worker::Worker(size_t index, const overload::OverloadState& overload)
    : index_(index), overload_(overload), clusters_(index) {
  clusters_.setLoop(loop_);
}

Worker::~Worker() {
  stop();
  join();
}

void Worker::start() {
  thread_ = std::thread([this] {
    const std::string name = "sluice-w" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    stats::setThreadSlot(index_);
    loop_.run();
    // Close everything on this thread, where it lives.
    active_.clear();
    draining_.clear();
    current_.reset();
    routes_.reset();
    // Redis clients last: the streams closed above cancelled their calls.
    redis::clearThreadClients();
  });
}

void Worker::apply(std::shared_ptr<const Snapshot> snap) {
  loop_.post([this, snap = std::move(snap)] { applyOnThread(snap); });
}

void Worker::applyOnThread(const std::shared_ptr<const Snapshot>& snap) {
  if (on_drained_) return;  // shutting down: no new listeners
  clusters_.update(snap->config, snap->cluster_stats);
  // Streams copy this pointer: a control block of this worker's own keeps
  // their reference counting off the other workers' cache lines.
  auto holder = std::make_shared<std::shared_ptr<const http::RouteTables>>(snap->routes);
  routes_ = std::shared_ptr<const http::RouteTables>(holder, holder->get());
  std::map<const ListenerSockets*, std::unique_ptr<ActiveListener>> next;
  const auto& listeners = snap->config->listeners;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const ListenerSockets* key = snap->sockets[i].get();
    auto it = active_.find(key);
    if (it != active_.end()) {
      next.emplace(key, std::move(it->second));  // unchanged: keeps its socket and connections
      active_.erase(it);
      continue;
    }
    next.emplace(key, std::make_unique<ActiveListener>(*this, snap->sockets[i], snap->config, listeners[i],
                                                       snap->listener_stats[i]->worker(index_),
                                                       snap->listener_chains[i]));
  }
  // What is left was removed or changed: drain it.
  for (auto& [key, listener] : active_) {
    (void)key;
    ActiveListener* raw = listener.get();
    draining_.push_back(std::move(listener));
    raw->drain(snap->config->bootstrap.drain_timeout);
  }
  active_ = std::move(next);
  current_ = snap;
}

void Worker::drain(event::Duration timeout, std::function<void()> done) {
  loop_.post([this, timeout, done = std::move(done)] {
    on_drained_ = done;
    for (auto& [key, listener] : active_) {
      (void)key;
      draining_.push_back(std::move(listener));
    }
    active_.clear();
    // drain() may report back synchronously and erase from draining_: iterate a snapshot.
    std::vector<ActiveListener*> all;
    for (auto& l : draining_) all.push_back(l.get());
    for (auto* l : all) l->drain(timeout);
    maybeDrained();
  });
}

void Worker::onListenerDrained(ActiveListener& listener) {
  for (auto it = draining_.begin(); it != draining_.end(); ++it) {
    if (it->get() == &listener) {
      loop_.deferredDelete(std::move(*it));
      draining_.erase(it);
      break;
    }
  }
  maybeDrained();
}

void Worker::maybeDrained() {
  if (on_drained_ && active_.empty() && draining_.empty()) {
    auto done = std::move(on_drained_);
    on_drained_ = [] {};  // stays set: no new listeners after a drain
    done();
  }
}

void Worker::onOverloadChanged() {
  loop_.post([this] {
    for (auto& [key, listener] : active_) {
      (void)key;
      listener->onOverloadChanged();
    }
  });
}

void Worker::stop() { loop_.exit(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::server
