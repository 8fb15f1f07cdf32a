#include "control/kubernetes/watch_event.h"

namespace sluice::control::kubernetes {

WatchEvent parseWatchEvent(std::string_view line) {
  WatchEvent e;
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object") ||
      !j["object"].is_object()) {
    e.message = "not a watch event: " + std::string(line.substr(0, 200));
    return e;
  }
  const std::string type = j["type"].get<std::string>();
  nlohmann::json& object = j["object"];
  if (type == "ERROR") {
    const nlohmann::json code = object.value("code", nlohmann::json());
    e.kind = code.is_number_integer() && code.get<int>() == 410 ? WatchEvent::Kind::Gone : WatchEvent::Kind::Error;
    const nlohmann::json message = object.value("message", nlohmann::json());
    e.message = message.is_string() ? message.get<std::string>() : object.dump();
    return e;
  }
  const nlohmann::json rv = object.contains("metadata") && object["metadata"].is_object()
                                ? object["metadata"].value("resourceVersion", nlohmann::json())
                                : nlohmann::json();
  if (rv.is_string()) e.resource_version = rv.get<std::string>();
  if (type == "BOOKMARK") {
    e.kind = WatchEvent::Kind::Bookmark;
    return e;
  }
  if (type == "ADDED") e.kind = WatchEvent::Kind::Added;
  else if (type == "MODIFIED") e.kind = WatchEvent::Kind::Modified;
  else if (type == "DELETED") e.kind = WatchEvent::Kind::Deleted;
  else {
    e.message = "unknown watch event type '" + type + "'";
    return e;
  }
  e.object = std::move(object);
  return e;
}

}  // namespace sluice::control::kubernetes
