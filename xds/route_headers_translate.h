#pragma once
// Header mutations (config/header_mutation.h) both ways with Envoy's
// HeaderValueOption lists: append: false is OVERWRITE_IF_EXISTS_OR_ADD,
// append: true is APPEND_IF_EXISTS_OR_ADD (written explicitly, since
// Envoy's default appends where Sluice's replaces).

#include <google/protobuf/repeated_field.h>

#include "config/header_mutation.h"
#include "envoy/config/core/v3/base.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

using HeaderValueOptions = google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>;

void headersToAddToEnvoy(const std::vector<config::HeaderValueOption>& in, HeaderValueOptions& out);
FieldError headersToAddFromEnvoy(const HeaderValueOptions& in, std::string_view path,
                                 std::vector<config::HeaderValueOption>& out);

}  // namespace sluice::xds
