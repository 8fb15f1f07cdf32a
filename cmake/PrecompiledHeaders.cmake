# Precompiled headers for the targets whose files spend most of their compile
# time parsing the same third-party headers: nlohmann/json (pulled in by most
# config headers), googletest, yaml-cpp, the standard library, and in the xDS
# code the generated Envoy messages. Only headers that most files of a target
# already include are listed, so a file does not pay to load what it never
# used; our own headers stay out, so editing one rebuilds only its users.
#
# GCC takes a precompiled header only under the options it was made with:
# the same -pthread and the same value of every macro defined then
# (-D_FILE_OFFSET_BITS=64 comes with hiredis, -pthread with re2 and gRPC),
# and it says so under -Winvalid-pch, which CMake turns on. The test runners
# differ there, so each makes its own; sluice_control reuses sluice_xds's
# (REUSE_FROM): same options, and its one extra macro, SLUICE_VERSION, is not
# named by these headers, which GCC allows.
#
# With ccache the PCH users are cached only under sloppiness
# pch_defines,time_macros; without it they are compiled, not miscompiled.
#
# -DSLUICE_PCH=OFF builds without them (to check that every file still
# includes what it uses).

option(SLUICE_PCH "Precompile the common third-party headers" ON)

set(SLUICE_PCH_STD
  <algorithm> <atomic> <chrono> <cstdint> <cstring> <filesystem> <functional> <map> <memory>
  <mutex> <optional> <sstream> <string> <string_view> <thread> <unordered_map> <utility> <vector>)

# The proxy library.
set(SLUICE_PCH_CORE ${SLUICE_PCH_STD} <nlohmann/json.hpp>)

# The xDS translation: nearly every file reads or writes Envoy's core types,
# half of them clusters, routes and listeners.
set(SLUICE_PCH_XDS ${SLUICE_PCH_CORE}
  <google/protobuf/any.pb.h> <google/protobuf/struct.pb.h> <google/protobuf/wrappers.pb.h>
  [["envoy/config/core/v3/base.pb.h"]] [["envoy/config/core/v3/config_source.pb.h"]]
  [["envoy/config/cluster/v3/cluster.pb.h"]] [["envoy/config/endpoint/v3/endpoint.pb.h"]]
  [["envoy/config/route/v3/route.pb.h"]] [["envoy/config/listener/v3/listener.pb.h"]])

# Test runners.
set(SLUICE_PCH_TESTS ${SLUICE_PCH_CORE} <gtest/gtest.h> <yaml-cpp/yaml.h> <fstream>)
set(SLUICE_PCH_XDS_TESTS ${SLUICE_PCH_XDS} <gtest/gtest.h> <yaml-cpp/yaml.h> <fstream>
  <google/protobuf/text_format.h>)

function(sluice_precompile_headers)
  if(NOT SLUICE_PCH)
    return()
  endif()
  target_precompile_headers(sluice_core PRIVATE ${SLUICE_PCH_CORE})
  target_precompile_headers(sluice_xds PRIVATE ${SLUICE_PCH_XDS})
  target_precompile_headers(sluice_control REUSE_FROM sluice_xds)
  target_precompile_headers(xds_tests PRIVATE ${SLUICE_PCH_XDS_TESTS})
  foreach(runner config_tests unit_tests integration_tests sluice_integration_support)
    target_precompile_headers(${runner} PRIVATE ${SLUICE_PCH_TESTS})
  endforeach()
endfunction()
