#include "xds/cluster_metadata.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sluice::xds {

std::string numberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

void setNumber(google::protobuf::Struct& s, std::string_view key, double v) {
  (*s.mutable_fields())[std::string(key)].set_number_value(v);
}

void setString(google::protobuf::Struct& s, std::string_view key, std::string_view v) {
  (*s.mutable_fields())[std::string(key)].set_string_value(std::string(v));
}

google::protobuf::Struct& setStruct(google::protobuf::Struct& s, std::string_view key) {
  return *(*s.mutable_fields())[std::string(key)].mutable_struct_value();
}

bool StructFields::has(std::string_view key) const { return value(key) != nullptr; }

const google::protobuf::Value* StructFields::value(std::string_view key) const {
  if (s_ == nullptr) return nullptr;
  const auto it = s_->fields().find(std::string(key));
  return it == s_->fields().end() ? nullptr : &it->second;
}

FieldError StructFields::number(std::string_view key, double& out, double min, double max) const {
  const auto* v = value(key);
  if (v == nullptr) return {};
  if (v->kind_case() != google::protobuf::Value::kNumberValue) return {pathOf(key), "expected a number"};
  const double d = v->number_value();
  if (!(d >= min && d <= max))
    return {pathOf(key), numberText(d) + " is out of range (" + numberText(min) + " to " + numberText(max) + ")"};
  out = d;
  return {};
}

FieldError StructFields::uint32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) const {
  const auto* v = value(key);
  if (v == nullptr) return {};
  if (v->kind_case() != google::protobuf::Value::kNumberValue || v->number_value() != std::floor(v->number_value()))
    return {pathOf(key), "expected a whole number"};
  const double d = v->number_value();
  if (d < min || d > max)
    return {pathOf(key), numberText(d) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")"};
  out = static_cast<uint32_t>(d);
  return {};
}

FieldError StructFields::milliseconds(std::string_view key, config::Duration& out) const {
  const auto* v = value(key);
  if (v == nullptr) return {};
  if (v->kind_case() != google::protobuf::Value::kNumberValue || v->number_value() != std::floor(v->number_value()) ||
      v->number_value() < 0 || v->number_value() > 1e15)
    return {pathOf(key), "expected a whole, non-negative number of milliseconds"};
  out = config::Duration(static_cast<int64_t>(v->number_value()));
  return {};
}

FieldError StructFields::child(std::string_view key, StructFields& out) const {
  const auto* v = value(key);
  if (v == nullptr) {
    out = StructFields(nullptr, pathOf(key));
    return {};
  }
  if (v->kind_case() != google::protobuf::Value::kStructValue) return {pathOf(key), "expected a struct"};
  out = StructFields(&v->struct_value(), pathOf(key));
  return {};
}

FieldError StructFields::onlyKeys(std::initializer_list<std::string_view> known) const {
  if (s_ == nullptr) return {};
  // Sorted, so the error names the same key every time.
  std::vector<std::string> keys;
  for (const auto& [k, v] : s_->fields()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys)
    if (std::find(known.begin(), known.end(), k) == known.end())
      return {pathOf(k), "unknown Sluice field (from a newer sluice-control?)"};
  return {};
}

}  // namespace sluice::xds
