#include "control/kubernetes/resource_watch.h"

#include <cctype>

#include "control/control_log.h"
#include "control/kubernetes/api_client.h"
#include "control/kubernetes/watch_event.h"

namespace sluice::control::kubernetes {
namespace {

// Query values here are resource versions and continue tokens (opaque,
// base64-like): escape everything but the unreserved characters.
std::string queryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A Status body's message, or the start of whatever the body was.
std::string statusMessage(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return body.substr(0, 200);
}

}  // namespace

const std::vector<ResourceType>& discoveredResources() {
  static const std::vector<ResourceType> kTypes = {
      {"namespaces", "/api/v1", false},
      {"serviceaccounts", "/api/v1", true},
      {"pods", "/api/v1", true},
      {"services", "/api/v1", true},
      {"endpointslices", "/apis/discovery.k8s.io/v1", true},
  };
  return kTypes;
}

std::string collectionPath(const ResourceType& type, const std::string& ns) {
  if (!type.namespaced) return type.prefix + "/" + type.name;
  if (ns.empty()) return type.prefix + "/" + type.name;
  return type.prefix + "/namespaces/" + ns + "/" + type.name;
}

WatchStream::Outcome WatchStream::onLine(std::string_view line) {
  WatchEvent e = parseWatchEvent(line);
  switch (e.kind) {
    case WatchEvent::Kind::Added:
    case WatchEvent::Kind::Modified:
      if (!e.resource_version.empty()) rv_ = e.resource_version;
      state_.upsert(resource_, std::move(e.object));
      ++events_;
      return Outcome::Continue;
    case WatchEvent::Kind::Deleted:
      if (!e.resource_version.empty()) rv_ = e.resource_version;
      state_.remove(resource_, e.object);
      ++events_;
      return Outcome::Continue;
    case WatchEvent::Kind::Bookmark:
      if (!e.resource_version.empty()) rv_ = e.resource_version;
      return Outcome::Continue;
    case WatchEvent::Kind::Gone:
      error_ = "410 Gone: " + e.message;
      return Outcome::Relist;
    case WatchEvent::Kind::Error:
      error_ = "ERROR event: " + e.message;
      return Outcome::Failed;
    case WatchEvent::Kind::Malformed:
      error_ = e.message;
      return Outcome::Failed;
  }
  return Outcome::Failed;
}

ResourceWatch::ResourceWatch(ResourceType type, Options options, ClusterState& state, DiscoveryMetrics& metrics,
                             AccessFn access)
    : type_(std::move(type)),
      options_(std::move(options)),
      state_(state),
      metrics_(metrics.forResource(type_.name)),
      access_(std::move(access)),
      backoff_(options_.backoff_initial, options_.backoff_max),
      label_(type_.name + (options_.ns.empty() || !type_.namespaced ? "" : " in " + options_.ns)) {}

void ResourceWatch::run() {
  Step step = Step::Relist;
  bool listed = false;
  while (!stopping()) {
    if (step == Step::Relist || rv_.empty()) {
      step = list();
      if (step == Step::Watch) {
        if (listed) metrics_.relists->Increment();
        listed = true;
      }
      continue;
    }
    step = watch();
  }
}

void ResourceWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  canceller_.cancel();
}

bool ResourceWatch::stopping() {
  std::lock_guard lock(mu_);
  return stop_;
}

void ResourceWatch::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_; });
}

void ResourceWatch::fail(const std::string& what) {
  if (stopping()) return;
  metrics_.errors->Increment();
  const auto delay = backoff_.next();
  log::warn("kubernetes: " + label_ + ": " + what + "; retrying in " + std::to_string(delay.count()) + "ms");
  wait(delay);
}

ResourceWatch::Step ResourceWatch::list() {
  std::string error;
  const auto access = access_(error);
  if (!access) {
    fail("cannot reach the API server: " + error);
    return Step::Relist;
  }
  const std::string path = collectionPath(type_, options_.ns);
  std::vector<nlohmann::json> items;
  std::string cont, rv;
  do {
    std::string target = path + "?limit=" + std::to_string(options_.page_size);
    if (!cont.empty()) target += "&continue=" + queryEscape(cont);
    unsigned status = 0;
    std::string body;
    ApiRequestCallbacks cb;
    cb.on_status = [&](unsigned s) { status = s; };
    cb.on_body = [&](std::string_view b) {
      body.append(b);
      return true;
    };
    error = apiGet(*access, target, canceller_, cb);
    if (!error.empty()) {
      fail("list " + target + ": " + error);
      return Step::Relist;
    }
    if (status == 410) {
      // The continue token expired between pages: start the list again.
      log::info("kubernetes: " + label_ + ": list continue token expired (410); listing again from the start");
      return Step::Relist;
    }
    if (status != 200) {
      fail("list " + target + ": HTTP " + std::to_string(status) + ": " + statusMessage(body));
      return Step::Relist;
    }
    nlohmann::json list = nlohmann::json::parse(body, nullptr, false);
    if (!list.is_object() || !list.contains("items") || !list["items"].is_array() || !list.contains("metadata") ||
        !list["metadata"].is_object()) {
      fail("list " + target + ": not a List: " + body.substr(0, 200));
      return Step::Relist;
    }
    for (auto& item : list["items"]) items.push_back(std::move(item));
    const auto& meta = list["metadata"];
    cont = meta.contains("continue") && meta["continue"].is_string() ? meta["continue"].get<std::string>() : "";
    rv = meta.contains("resourceVersion") && meta["resourceVersion"].is_string()
             ? meta["resourceVersion"].get<std::string>()
             : "";
  } while (!cont.empty() && !stopping());
  if (stopping()) return Step::Retry;
  const size_t count = items.size();
  state_.replace(type_.name, type_.namespaced ? options_.ns : "", std::move(items));
  metrics_.lists->Increment();
  rv_ = rv;
  backoff_.reset();
  listed_ = true;
  log::info("kubernetes: " + label_ + ": listed " + std::to_string(count) + " at resourceVersion " + rv_);
  return Step::Watch;
}

ResourceWatch::Step ResourceWatch::watch() {
  std::string error;
  const auto access = access_(error);
  if (!access) {
    fail("cannot reach the API server: " + error);
    return Step::Watch;
  }
  const auto timeout_s = std::chrono::duration_cast<std::chrono::seconds>(options_.watch_timeout).count();
  const std::string target = collectionPath(type_, options_.ns) +
                             "?watch=1&allowWatchBookmarks=true&resourceVersion=" + queryEscape(rv_) +
                             "&timeoutSeconds=" + std::to_string(timeout_s);
  metrics_.watches->Increment();
  WatchStream stream(state_, type_.name, rv_);
  LineSplitter lines;
  unsigned status = 0;
  std::string error_body;
  WatchStream::Outcome outcome = WatchStream::Outcome::Continue;
  ApiRequestCallbacks cb;
  // The server ends the watch at timeoutSeconds and sends bookmarks within
  // it: silence well past that is a dead connection.
  cb.read_timeout = options_.watch_timeout + std::chrono::seconds(30);
  cb.on_status = [&](unsigned s) { status = s; };
  cb.on_body = [&](std::string_view bytes) {
    if (status != 200) {
      error_body.append(bytes);
      return true;
    }
    lines.feed(bytes, [&](std::string_view line) {
      if (outcome == WatchStream::Outcome::Continue) outcome = stream.onLine(line);
    });
    return outcome == WatchStream::Outcome::Continue;
  };
  error = apiGet(*access, target, canceller_, cb);
  rv_ = stream.resourceVersion();
  if (stream.events() > 0) backoff_.reset();
  if (stopping()) return Step::Retry;
  if (status == 410 || outcome == WatchStream::Outcome::Relist) {
    log::info("kubernetes: " + label_ + ": resourceVersion " + rv_ + " is gone (410" +
              (status == 410 ? ": " + statusMessage(error_body) : ": " + stream.error()) + "); listing again");
    rv_.clear();
    return Step::Relist;
  }
  if (!error.empty() && status == 0) {
    fail("watch " + target + ": " + error);
    return Step::Watch;
  }
  if (status != 200) {
    fail("watch " + target + ": HTTP " + std::to_string(status) + ": " + statusMessage(error_body));
    return Step::Watch;
  }
  if (outcome == WatchStream::Outcome::Failed) {
    fail("watch " + target + ": " + stream.error());
    return Step::Watch;
  }
  if (!error.empty()) {
    // Dropped mid-stream: resume from the last version seen.
    fail("watch dropped (" + error + "); watching again from resourceVersion " + rv_);
    return Step::Watch;
  }
  log::debug("kubernetes: " + label_ + ": watch ended; watching again from resourceVersion " + rv_);
  return Step::Watch;
}

}  // namespace sluice::control::kubernetes
