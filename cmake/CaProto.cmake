# Sluice's own CA service (proto/sluice/ca/v1/certificate_service.proto):
# one small file, compiled in every tree (the xDS protos are reused across
# trees; this is too small to bother).
find_package(Protobuf REQUIRED)
find_program(SLUICE_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(_ca_gen "${CMAKE_BINARY_DIR}/ca-proto")
set(_ca_proto "sluice/ca/v1/certificate_service.proto")
set(_ca_outs "${_ca_gen}/sluice/ca/v1/certificate_service.pb.cc" "${_ca_gen}/sluice/ca/v1/certificate_service.pb.h"
  "${_ca_gen}/sluice/ca/v1/certificate_service.grpc.pb.cc" "${_ca_gen}/sluice/ca/v1/certificate_service.grpc.pb.h")
add_custom_command(
  OUTPUT ${_ca_outs}
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_ca_gen}"
  COMMAND protobuf::protoc "--proto_path=${CMAKE_SOURCE_DIR}/proto" "--cpp_out=${_ca_gen}" "--grpc_out=${_ca_gen}"
    "--plugin=protoc-gen-grpc=${SLUICE_GRPC_CPP_PLUGIN}" "${_ca_proto}"
  DEPENDS "${CMAKE_SOURCE_DIR}/proto/${_ca_proto}" protobuf::protoc
  COMMENT "protoc ${_ca_proto}"
  VERBATIM)
# The messages (what the proxy's CA client needs: protobuf only) and the
# gRPC C++ service (the control plane's server and the test CA).
add_library(sluice_ca_proto STATIC "${_ca_gen}/sluice/ca/v1/certificate_service.pb.cc")
add_library(sluice_ca_grpc STATIC "${_ca_gen}/sluice/ca/v1/certificate_service.grpc.pb.cc")
foreach(t sluice_ca_proto sluice_ca_grpc)
  set_property(TARGET ${t} PROPERTY COMPILE_OPTIONS -w)
  set_property(TARGET ${t} PROPERTY POSITION_INDEPENDENT_CODE ON)
endforeach()
target_include_directories(sluice_ca_proto SYSTEM PUBLIC "${_ca_gen}")
target_link_libraries(sluice_ca_proto PUBLIC protobuf::libprotobuf)
target_link_libraries(sluice_ca_grpc PUBLIC sluice_ca_proto PkgConfig::GRPCPP)
