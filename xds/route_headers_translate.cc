#include "xds/route_headers_translate.h"

#include "xds/unsupported_fields.h"

namespace sluice::xds {

using envoy::config::core::v3::HeaderValueOption;

void headersToAddToEnvoy(const std::vector<config::HeaderValueOption>& in, HeaderValueOptions& out) {
  for (const auto& h : in) {
    auto* o = out.Add();
    o->mutable_header()->set_key(h.name);
    o->mutable_header()->set_value(h.value);
    o->set_append_action(h.append ? HeaderValueOption::APPEND_IF_EXISTS_OR_ADD
                                  : HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
}

FieldError headersToAddFromEnvoy(const HeaderValueOptions& in, std::string_view path,
                                 std::vector<config::HeaderValueOption>& out) {
  for (int i = 0; i < in.size(); ++i) {
    const auto& o = in[i];
    const std::string p = indexPath(path, i);
    if (auto e = unsupportedField(o, p, {"header", "append", "append_action"}); !e.empty()) return e;
    if (auto e = unsupportedField(o.header(), fieldPath(p, "header"), {"key", "value"}); !e.empty()) return e;
    if (o.header().key().empty()) return {fieldPath(p, "header.key"), "required"};
    config::HeaderValueOption h{o.header().key(), o.header().value(), true};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // `append` is older servers' append_action
    const bool has_append = o.has_append();
    const bool append = o.append().value();
#pragma GCC diagnostic pop
    if (has_append) {
      h.append = append;
    } else if (o.append_action() == HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD) {
      h.append = false;
    } else if (o.append_action() != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
      return {fieldPath(p, "append_action"),
              HeaderValueOption::HeaderAppendAction_Name(o.append_action()) + " is not supported by Sluice"};
    }
    out.push_back(std::move(h));
  }
  return {};
}

}  // namespace sluice::xds
