# The Python package (python/clcnn), installed where the system's python3
# finds it, with a generated module that tells it where the library went.
#
# The site directory comes from the interpreter's own install scheme: its
# purelib directory relative to its prefix (sysconfig's "data"), placed
# under CMAKE_INSTALL_PREFIX. For Debian's /usr/bin/python3 (scheme
# posix_local: purelib /usr/local/lib/python3.11/dist-packages, data
# /usr/local) that is lib/python3.11/dist-packages, so `cmake --install
# build --prefix /usr/local` puts the package on that python3's sys.path.
# Set CLCNN_PYTHON_INSTALL_DIR (relative to the prefix) to choose another.

set(CLCNN_PYTHON_INTERPRETER "" CACHE FILEPATH
  "The python3 the package is installed for (default: /usr/bin/python3, else python3 on PATH)")
if(NOT CLCNN_PYTHON_INTERPRETER)
  if(EXISTS /usr/bin/python3)
    set(CLCNN_PYTHON_INTERPRETER /usr/bin/python3 CACHE FILEPATH "The python3 the package is installed for" FORCE)
  else()
    find_program(CLCNN_PYTHON_ON_PATH NAMES python3)
    if(CLCNN_PYTHON_ON_PATH)
      set(CLCNN_PYTHON_INTERPRETER ${CLCNN_PYTHON_ON_PATH} CACHE FILEPATH
        "The python3 the package is installed for" FORCE)
    endif()
  endif()
endif()

set(CLCNN_PYTHON_INSTALL_DIR "" CACHE PATH
  "Where the Python package goes, relative to CMAKE_INSTALL_PREFIX (default: from CLCNN_PYTHON_INTERPRETER)")
if(NOT CLCNN_PYTHON_INSTALL_DIR AND CLCNN_PYTHON_INTERPRETER)
  execute_process(
    COMMAND ${CLCNN_PYTHON_INTERPRETER} -c
      "import os, sysconfig; p = sysconfig.get_paths(); print(os.path.relpath(p['purelib'], p['data']))"
    OUTPUT_VARIABLE python_site OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE python_failed ERROR_QUIET)
  # A purelib outside its prefix (relpath starting with ..) says nothing
  # about where it would be under another prefix.
  if(NOT python_failed AND python_site AND NOT python_site MATCHES "^\\.\\.")
    set(CLCNN_PYTHON_INSTALL_DIR ${python_site} CACHE PATH
      "Where the Python package goes, relative to CMAKE_INSTALL_PREFIX" FORCE)
  endif()
endif()
if(NOT CLCNN_PYTHON_INSTALL_DIR)
  set(CLCNN_PYTHON_INSTALL_DIR lib/python3/dist-packages)
  message(STATUS "Python package: no python3 to ask for its site directory; installing to "
                 "<prefix>/${CLCNN_PYTHON_INSTALL_DIR} (set CLCNN_PYTHON_INSTALL_DIR to change)")
endif()

# _installed.py: the installed library's path relative to the installed
# package, which holds under any --prefix or DESTDIR (like clcnn.pc's).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CLCNN_PYTHON_INSTALL_DIR}")
  set(python_to_lib "${CMAKE_INSTALL_FULL_LIBDIR}")
else()
  file(RELATIVE_PATH python_to_lib "/${CLCNN_PYTHON_INSTALL_DIR}/clcnn" "/${CMAKE_INSTALL_LIBDIR}")
  string(REGEX REPLACE "/$" "" python_to_lib "${python_to_lib}")
endif()
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/generated/python/_installed.py CONTENT
"\"\"\"Written by clcnn's build for the installed package: where the library
installed with it is, relative to this directory (see _library.py).\"\"\"
LIBRARY = \"${python_to_lib}/$<TARGET_SONAME_FILE_NAME:clcnn>\"
")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/clcnn DESTINATION ${CLCNN_PYTHON_INSTALL_DIR}
  FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
install(FILES ${CMAKE_BINARY_DIR}/generated/python/_installed.py DESTINATION ${CLCNN_PYTHON_INSTALL_DIR}/clcnn)
