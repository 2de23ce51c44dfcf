# The SavedModel importer's protobuf subset (tf_savedmodel.proto), compiled
# to C with protoc-c at build time, and libprotobuf-c.  Included from the
# top-level CMakeLists.txt after tinyml_host is defined; fuzz/ calls the
# function again for its own target (a generated file belongs to one
# directory under CMake 3.16's rules, so each gets its own copy).
find_program(TML_PROTOC_C protoc-c REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)

# Generates <gen_dir>/convert/import/tf_savedmodel.pb-c.{c,h}, compiles the
# .c into `target` and puts gen_dir on its include path (PUBLIC or PRIVATE).
function(tml_savedmodel_proto target gen_dir visibility)
  set(src ${CMAKE_SOURCE_DIR}/convert/import/tf_savedmodel.proto)
  set(out_c ${gen_dir}/convert/import/tf_savedmodel.pb-c.c)
  set(out_h ${gen_dir}/convert/import/tf_savedmodel.pb-c.h)
  file(MAKE_DIRECTORY ${gen_dir})
  add_custom_command(
    OUTPUT ${out_c} ${out_h}
    COMMAND ${TML_PROTOC_C} -I${CMAKE_SOURCE_DIR} --c_out=${gen_dir} ${src}
    DEPENDS ${src}
    COMMENT "protoc-c convert/import/tf_savedmodel.proto"
    VERBATIM)
  target_sources(${target} PRIVATE ${out_c} ${out_h})
  target_include_directories(${target} ${visibility} ${gen_dir})
  target_link_libraries(${target} ${visibility} PkgConfig::PROTOBUF_C)
endfunction()

tml_savedmodel_proto(tinyml_host ${CMAKE_BINARY_DIR}/gen PUBLIC)
