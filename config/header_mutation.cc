#include "config/header_mutation.h"

#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

void readHeadersToAdd(MapReader& r, std::string_view key, std::vector<HeaderValueOption>& out) {
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    MapReader hr(r.ctx(), item, path);
    if (!hr.isMap()) return;
    HeaderValueOption o;
    if (readString(hr, "name", o.name, /*required=*/true)) checkHeaderName(hr, "name", o.name, false);
    // CR/LF would let a config smuggle extra header lines onto the wire.
    if (readString(hr, "value", o.value, /*required=*/true) && o.value.find_first_of("\r\n") != std::string::npos)
      hr.ctx().error(hr.locOf("value"), hr.childPath("value"), "header value must not contain CR or LF");
    hr.boolean("append", o.append);
    hr.finish();
    out.push_back(std::move(o));
  });
}

void readHeadersToRemove(MapReader& r, std::string_view key, std::vector<std::string>& out) {
  for (auto& item : readStrings(r, key)) {
    if (!isHttpToken(item.value)) r.ctx().error(item.node, item.path, "invalid header name '" + item.value + "'");
    out.push_back(std::move(item.value));
  }
}

nlohmann::json headerOptions(const std::vector<HeaderValueOption>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& o : v) a.push_back({{"name", o.name}, {"value", o.value}, {"append", o.append}});
  return a;
}

}  // namespace

void readHeaderMutation(MapReader& r, HeaderMutation& m) {
  readHeadersToAdd(r, "request_headers_to_add", m.request_headers_to_add);
  readHeadersToRemove(r, "request_headers_to_remove", m.request_headers_to_remove);
  readHeadersToAdd(r, "response_headers_to_add", m.response_headers_to_add);
  readHeadersToRemove(r, "response_headers_to_remove", m.response_headers_to_remove);
}

nlohmann::json headerMutationJson(const HeaderMutation& m) {
  nlohmann::json j = nlohmann::json::object();
  if (!m.request_headers_to_add.empty()) j["request_headers_to_add"] = headerOptions(m.request_headers_to_add);
  if (!m.request_headers_to_remove.empty()) j["request_headers_to_remove"] = m.request_headers_to_remove;
  if (!m.response_headers_to_add.empty()) j["response_headers_to_add"] = headerOptions(m.response_headers_to_add);
  if (!m.response_headers_to_remove.empty()) j["response_headers_to_remove"] = m.response_headers_to_remove;
  return j;
}

}  // namespace sluice::config
