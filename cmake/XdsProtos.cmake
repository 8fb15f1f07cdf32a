# The Envoy v3 xDS protos, compiled into one static library: sluice_xds_proto.
#
# The .proto files come from the npm package @grpc/grpc-js-xds (installed by
# scripts/install-deps into .npm-deps/), not from this repository. Only the
# import closure of the APIs we serve and read is copied into the build tree
# and compiled with Debian's protoc and grpc_cpp_plugin.
#
# The generated code is slow to compile and the same in every build tree, so
# a sanitizer tree takes it from the Release tree instead of compiling its own
# (-DSLUICE_XDS_PROTO_FROM=<release build dir>; scripts/build does this).

set(SLUICE_XDS_PROTO_ROOT "${CMAKE_SOURCE_DIR}/.npm-deps/node_modules/@grpc/grpc-js-xds/deps"
  CACHE PATH "The deps/ folder of the @grpc/grpc-js-xds npm package")
set(SLUICE_XDS_PROTO_FROM "" CACHE PATH
  "A build tree whose sluice_xds_proto to reuse instead of compiling one here")

find_package(Protobuf REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)

set(_xds_gen "${CMAKE_BINARY_DIR}/xds-proto/gen")
set(_xds_src "${CMAKE_BINARY_DIR}/xds-proto/src")

if(SLUICE_XDS_PROTO_FROM)
  set(_xds_lib "${SLUICE_XDS_PROTO_FROM}/libsluice_xds_proto.a")
  if(NOT EXISTS "${_xds_lib}")
    message(FATAL_ERROR "SLUICE_XDS_PROTO_FROM: ${_xds_lib} does not exist; build target sluice_xds_proto there first")
  endif()
  add_library(sluice_xds_proto STATIC IMPORTED GLOBAL)
  set_target_properties(sluice_xds_proto PROPERTIES IMPORTED_LOCATION "${_xds_lib}")
  target_include_directories(sluice_xds_proto INTERFACE "${SLUICE_XDS_PROTO_FROM}/xds-proto/gen")
  target_link_libraries(sluice_xds_proto INTERFACE protobuf::libprotobuf)
  return()
endif()

set(_xds_roots envoy-api xds googleapis protoc-gen-validate)
foreach(root IN LISTS _xds_roots)
  if(NOT IS_DIRECTORY "${SLUICE_XDS_PROTO_ROOT}/${root}")
    message(FATAL_ERROR "xDS protos not found under ${SLUICE_XDS_PROTO_ROOT} (run scripts/install-deps)")
  endif()
endforeach()

# What we use; everything they import comes along.
set(_xds_entry
  envoy/service/discovery/v3/ads.proto
  envoy/service/discovery/v3/discovery.proto
  envoy/service/secret/v3/sds.proto
  envoy/config/listener/v3/listener.proto
  envoy/config/route/v3/route.proto
  envoy/config/cluster/v3/cluster.proto
  envoy/config/endpoint/v3/endpoint.proto
  envoy/extensions/transport_sockets/tls/v3/tls.proto
  envoy/extensions/transport_sockets/tls/v3/secret.proto
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
  envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
  envoy/extensions/filters/http/router/v3/router.proto
  envoy/extensions/filters/http/fault/v3/fault.proto
  envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto
  envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto
  envoy/extensions/filters/http/rbac/v3/rbac.proto
  envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto
  envoy/extensions/filters/network/rbac/v3/rbac.proto
  envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit.proto
  envoy/extensions/upstreams/http/v3/http_protocol_options.proto)
set(_xds_services envoy/service/discovery/v3/ads.proto envoy/service/secret/v3/sds.proto)

# The import closure, by a walk over `import "...";` lines.
set(_unread ${_xds_entry})
set(_closure)
while(_unread)
  list(POP_FRONT _unread f)
  if(f IN_LIST _closure OR f MATCHES "^google/protobuf/")
    continue()
  endif()
  set(_found)
  foreach(root IN LISTS _xds_roots)
    if(EXISTS "${SLUICE_XDS_PROTO_ROOT}/${root}/${f}")
      set(_found "${SLUICE_XDS_PROTO_ROOT}/${root}/${f}")
      break()
    endif()
  endforeach()
  if(NOT _found)
    message(FATAL_ERROR "xDS proto ${f} is not in ${SLUICE_XDS_PROTO_ROOT}")
  endif()
  list(APPEND _closure "${f}")
  file(STRINGS "${_found}" _imports REGEX "^import ")
  foreach(line IN LISTS _imports)
    if(line MATCHES "^import +(public +|weak +)?\"([^\"]+)\"")
      list(APPEND _unread "${CMAKE_MATCH_2}")
    endif()
  endforeach()
  # The copy protoc reads. The package's validate.proto is older than its
  # envoy protos, which set StringRules.ignore_empty (field 26 upstream).
  if(f STREQUAL "validate/validate.proto")
    file(READ "${_found}" _text)
    string(REPLACE "message StringRules {" "message StringRules {\n  optional bool ignore_empty = 26;" _text "${_text}")
    file(CONFIGURE OUTPUT "${_xds_src}/${f}" CONTENT "${_text}" @ONLY)
  else()
    configure_file("${_found}" "${_xds_src}/${f}" COPYONLY)
  endif()
endwhile()
list(SORT _closure)

find_program(SLUICE_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(_xds_cc)
set(_xds_outputs)
foreach(f IN LISTS _closure)
  string(REGEX REPLACE "\\.proto$" "" base "${f}")
  set(outs "${_xds_gen}/${base}.pb.cc" "${_xds_gen}/${base}.pb.h")
  set(plugin_args)
  if(f IN_LIST _xds_services)
    list(APPEND outs "${_xds_gen}/${base}.grpc.pb.cc" "${_xds_gen}/${base}.grpc.pb.h")
    set(plugin_args "--grpc_out=${_xds_gen}" "--plugin=protoc-gen-grpc=${SLUICE_GRPC_CPP_PLUGIN}")
  endif()
  add_custom_command(
    OUTPUT ${outs}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${_xds_gen}"
    COMMAND protobuf::protoc "--proto_path=${_xds_src}" "--cpp_out=${_xds_gen}" ${plugin_args} "${f}"
    DEPENDS "${_xds_src}/${f}" protobuf::protoc
    WORKING_DIRECTORY "${_xds_src}"
    COMMENT "protoc ${f}"
    VERBATIM)
  foreach(o IN LISTS outs)
    if(o MATCHES "\\.cc$")
      list(APPEND _xds_cc "${o}")
    endif()
  endforeach()
endforeach()
list(LENGTH _closure _n)
message(STATUS "xDS protos: ${_n} files in the closure")

add_library(sluice_xds_proto STATIC ${_xds_cc})
# Generated code: -O1 is most of -O2's speed for a third of the compile
# time; no sanitizers and no warnings (it is not ours).
set_property(TARGET sluice_xds_proto PROPERTY COMPILE_OPTIONS -O1 -w)
# Linked into the proxy's gRPC module (a shared object) as well as binaries.
set_property(TARGET sluice_xds_proto PROPERTY POSITION_INDEPENDENT_CODE ON)
set_property(TARGET sluice_xds_proto PROPERTY ARCHIVE_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}")
target_include_directories(sluice_xds_proto SYSTEM PUBLIC "${_xds_gen}")
# Protobuf only: the messages are what its users share. The service stubs
# (ads.grpc.pb, sds.grpc.pb) are in it too, for the control plane, which
# links gRPC C++ itself; the proxy's module never pulls them in.
target_link_libraries(sluice_xds_proto PUBLIC protobuf::libprotobuf)
