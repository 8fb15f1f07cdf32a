#pragma once
// Shared by the cluster and TLS translation tests: readable files for the
// TLS blocks of test YAML (the reader checks they exist), and Envoy
// resources written in protobuf text format as another server would send
// them.

#include <unistd.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace sluice::xds::testing {

// A file that exists (its content does not matter to the translation).
inline std::string touchFile(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/xds_cluster_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << "not a real PEM\n";
  return path;
}

template <class M>
M fromText(const std::string& text) {
  M m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

// What goes over the wire: serialized and parsed again, so nothing the
// translation relies on lives only in the in-memory message.
template <class M>
M overTheWire(const M& m) {
  M out;
  EXPECT_TRUE(out.ParseFromString(m.SerializeAsString()));
  return out;
}

}  // namespace sluice::xds::testing
