#pragma once
// The io.sluice metadata Struct (see xds/cluster_translate.h): writing
// Sluice-only values into it, and reading them back with the field paths a
// NACK names. Numbers are protobuf Struct numbers (doubles), which hold every
// uint32 exactly; durations are whole milliseconds under a "_ms" key.

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "config/model.h"
#include "xds/proto_values.h"

namespace sluice::xds {

// "2.5", "1e+20": a double as a message shows it.
std::string numberText(double v);

void setNumber(google::protobuf::Struct& s, std::string_view key, double v);
void setString(google::protobuf::Struct& s, std::string_view key, std::string_view v);
google::protobuf::Struct& setStruct(google::protobuf::Struct& s, std::string_view key);

// The fields of one Struct at `path`. A missing key leaves `out` as it was.
class StructFields {
 public:
  StructFields() = default;  // no Struct: has() is false for every key
  StructFields(const google::protobuf::Struct* s, std::string path) : s_(s), path_(std::move(path)) {}

  bool has(std::string_view key) const;
  std::string pathOf(std::string_view key) const { return fieldPath(path_, key); }
  const std::string& path() const { return path_; }
  const google::protobuf::Struct* get() const { return s_; }

  FieldError uint32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) const;
  FieldError number(std::string_view key, double& out, double min, double max) const;
  FieldError milliseconds(std::string_view key, config::Duration& out) const;
  // A nested Struct; an empty StructFields when the key is absent.
  FieldError child(std::string_view key, StructFields& out) const;
  // The value at `key` (null when absent).
  const google::protobuf::Value* value(std::string_view key) const;
  // An error naming the first key not in `known`.
  FieldError onlyKeys(std::initializer_list<std::string_view> known) const;

 private:
  const google::protobuf::Struct* s_ = nullptr;
  std::string path_;
};

}  // namespace sluice::xds
