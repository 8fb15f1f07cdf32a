#pragma once
// The fields of a received message that Sluice does not implement: every
// translator lists what it reads (or knowingly ignores), and anything else
// that is set rejects the resource, naming the field, rather than being
// dropped in silence (a dropped listener filter or route matcher would
// change what the proxy does).

#include <google/protobuf/message.h>

#include <initializer_list>
#include <string_view>

#include "xds/proto_values.h"

namespace sluice::xds {

// The first field set in `msg` whose name is not in `known`, as an error at
// "<path>.<field>": "not supported by Sluice"; empty when there is none.
FieldError unsupportedField(const google::protobuf::Message& msg, std::string_view path,
                            std::initializer_list<std::string_view> known);

}  // namespace sluice::xds
