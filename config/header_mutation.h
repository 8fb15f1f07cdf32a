#pragma once
// Headers added and removed on the request (before the upstream) and on the
// response (before the client), as plain data: a route table, its virtual
// hosts and routes each carry one, and so does the header_mutation filter.
// The proxy applies them (proxy/http/route_config.h).
//
//   request_headers_to_add: [{name: x-env, value: prod, append: false}]
//   request_headers_to_remove: [x-internal]
//   response_headers_to_add: [{name: x-served-by, value: sluice}]
//   response_headers_to_remove: [server]

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::config {

class MapReader;

struct HeaderValueOption {
  std::string name;
  std::string value;
  bool append = false;  // false: replace any existing field of that name
};

struct HeaderMutation {
  std::vector<HeaderValueOption> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;
  std::vector<HeaderValueOption> response_headers_to_add;
  std::vector<std::string> response_headers_to_remove;
  bool empty() const {
    return request_headers_to_add.empty() && request_headers_to_remove.empty() && response_headers_to_add.empty() &&
           response_headers_to_remove.empty();
  }
};

// Reads the four keys above from the caller's mapping (which may hold
// others), without finish().
void readHeaderMutation(MapReader& r, HeaderMutation& out);
// The keys that are set, as an object to merge into the owner's JSON.
nlohmann::json headerMutationJson(const HeaderMutation& m);

}  // namespace sluice::config
