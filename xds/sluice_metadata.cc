#include "xds/sluice_metadata.h"

#include <cmath>

#include "xds/cluster_translate.h"

namespace sluice::xds {

google::protobuf::Struct& sluiceMetadata(envoy::config::core::v3::Metadata& m) {
  return (*m.mutable_filter_metadata())[std::string(kSluiceMetadataKey)];
}

const google::protobuf::Struct* findSluiceMetadata(const envoy::config::core::v3::Metadata& m) {
  const auto it = m.filter_metadata().find(std::string(kSluiceMetadataKey));
  return it == m.filter_metadata().end() ? nullptr : &it->second;
}

google::protobuf::Value toStructValue(const nlohmann::json& j) {
  google::protobuf::Value v;
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      v.set_null_value(google::protobuf::NULL_VALUE);
      break;
    case nlohmann::json::value_t::boolean:
      v.set_bool_value(j.get<bool>());
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      v.set_number_value(j.get<double>());
      break;
    case nlohmann::json::value_t::string:
      v.set_string_value(j.get<std::string>());
      break;
    case nlohmann::json::value_t::array:
      for (const auto& item : j) *v.mutable_list_value()->add_values() = toStructValue(item);
      v.mutable_list_value();
      break;
    case nlohmann::json::value_t::object:
      toStruct(j, *v.mutable_struct_value());
      break;
    case nlohmann::json::value_t::binary:
      v.set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
  return v;
}

void toStruct(const nlohmann::json& object, google::protobuf::Struct& out) {
  for (const auto& [k, item] : object.items()) (*out.mutable_fields())[k] = toStructValue(item);
}

nlohmann::json fromStructValue(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kBoolValue:
      return v.bool_value();
    case google::protobuf::Value::kNumberValue: {
      const double d = v.number_value();
      // Integral values (counts, sizes) read back as integers, so a reader
      // that wants an unsigned number gets one.
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
        if (d >= 0) return static_cast<uint64_t>(d);
        return static_cast<int64_t>(d);
      }
      return d;
    }
    case google::protobuf::Value::kStringValue:
      return v.string_value();
    case google::protobuf::Value::kListValue: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& item : v.list_value().values()) a.push_back(fromStructValue(item));
      return a;
    }
    case google::protobuf::Value::kStructValue:
      return fromStruct(v.struct_value());
    default:
      return nullptr;
  }
}

nlohmann::json fromStruct(const google::protobuf::Struct& s) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : s.fields()) o[k] = fromStructValue(v);
  return o;
}

}  // namespace sluice::xds
