# FERRY_STATIC: ferry with every third-party library linked statically, libstdc++ and libgcc
# too; only glibc stays shared, so the executable (and the installers made from it) runs on a
# minimal Debian system (docs/STATIC.md). Included before the project's find_package calls: it
# makes them find static libraries, adds what those libraries need in turn, and names the
# targets to link where Debian's package configuration points at a shared library.
#
# Every library is Debian's .a from its -dev package, except:
#   libcurl  built from Debian's source package by scripts/static-libcurl.sh (Debian's
#            libcurl.a needs GSSAPI and LDAP, which have no static libraries); its prefix is
#            FERRY_STATIC_CURL
#   fmt      Debian ships no libfmt.a: its headers are used in fmt's header-only mode

set(FERRY_STATIC_CURL "" CACHE PATH
    "Prefix of the static libcurl (scripts/static-libcurl.sh prints it)")
if(NOT FERRY_STATIC_CURL OR NOT EXISTS "${FERRY_STATIC_CURL}/lib/libcurl.a")
    message(FATAL_ERROR "FERRY_STATIC needs -DFERRY_STATIC_CURL=PREFIX, a static libcurl: "
                        "-DFERRY_STATIC_CURL=$(scripts/static-libcurl.sh)")
endif()
list(PREPEND CMAKE_PREFIX_PATH "${FERRY_STATIC_CURL}")

set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(ZLIB_USE_STATIC_LIBS ON)

# find_library of each static library a static library needs (pkg-config --static names them);
# glibc's own libraries stay shared.
function(ferry_static_dependencies target)
    foreach(name IN LISTS ARGN)
        if(name MATCHES "^(c|m|dl|pthread|rt|resolv)$")
            set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${name})
            continue()
        endif()
        find_library(FERRY_STATIC_LIB_${name} NAMES lib${name}.a NO_CACHE)
        if(NOT FERRY_STATIC_LIB_${name})
            message(FATAL_ERROR "FERRY_STATIC: lib${name}.a (for ${target}) is not installed "
                                "(scripts/install-deps.sh --static)")
        endif()
        set_property(TARGET ${target} APPEND PROPERTY
                     INTERFACE_LINK_LIBRARIES ${FERRY_STATIC_LIB_${name}})
    endforeach()
endfunction()

find_package(PkgConfig REQUIRED)
find_package(LibArchive REQUIRED)
pkg_check_modules(FERRY_STATIC_ARCHIVE REQUIRED libarchive)
list(REMOVE_ITEM FERRY_STATIC_ARCHIVE_STATIC_LIBRARIES archive)
ferry_static_dependencies(LibArchive::LibArchive ${FERRY_STATIC_ARCHIVE_STATIC_LIBRARIES})

find_package(SQLite3 REQUIRED)
pkg_check_modules(FERRY_STATIC_SQLITE REQUIRED sqlite3)
list(REMOVE_ITEM FERRY_STATIC_SQLITE_STATIC_LIBRARIES sqlite3)
ferry_static_dependencies(SQLite::SQLite3 ${FERRY_STATIC_SQLITE_STATIC_LIBRARIES} dl pthread)

# That prefix's package configuration, also when a previous configure found another one.
set(CURL_DIR ${FERRY_STATIC_CURL}/lib/cmake/CURL CACHE PATH "The static libcurl's CMake package" FORCE)
find_package(CURL REQUIRED CONFIG)

find_package(pugixml REQUIRED)
set(FERRY_PUGIXML pugixml::static)
find_package(fmt REQUIRED)
set(FERRY_FMT fmt::fmt-header-only)
# Debian's yaml-cpp package configuration names only the shared library.
find_package(yaml-cpp REQUIRED)
find_library(FERRY_STATIC_YAML_CPP NAMES libyaml-cpp.a REQUIRED)
add_library(ferry_static_yaml_cpp STATIC IMPORTED)
set_target_properties(ferry_static_yaml_cpp PROPERTIES IMPORTED_LOCATION ${FERRY_STATIC_YAML_CPP})
set(FERRY_YAML_CPP ferry_static_yaml_cpp)

# Size: optimised for size (-Os, after the build type's -O so that it wins), every function and
# object in its own section so that the linker drops those nothing uses, the C++ runtime linked
# in, and symbols stripped (this executable is what an installer carries).
add_compile_options(-Os -ffunction-sections -fdata-sections)
add_link_options(-static-libstdc++ -static-libgcc -Wl,--gc-sections -Wl,--strip-all)
