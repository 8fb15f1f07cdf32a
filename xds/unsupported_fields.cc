#include "xds/unsupported_fields.h"

#include <algorithm>
#include <vector>

#include <google/protobuf/descriptor.h>

namespace sluice::xds {

FieldError unsupportedField(const google::protobuf::Message& msg, std::string_view path,
                            std::initializer_list<std::string_view> known) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  msg.GetReflection()->ListFields(msg, &set);  // in field-number order, so the first is stable
  for (const auto* f : set) {
    if (std::find(known.begin(), known.end(), f->name()) != known.end()) continue;
    return {fieldPath(path, f->name()), "not supported by Sluice"};
  }
  return {};
}

}  // namespace sluice::xds
