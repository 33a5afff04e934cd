# The engine is a library the platform depends on, never the reverse (STYLE.md rule 1).
# Fail configuration if a file under src/engine includes the platform, HTTP, SQL or JSON.
# JSON is allowed only in the JSON-Schema-to-grammar converter, which reads a schema document.
file(GLOB_RECURSE _agora_engine_files ${PROJECT_SOURCE_DIR}/src/engine/*.h ${PROJECT_SOURCE_DIR}/src/engine/*.cpp)
foreach(_f IN LISTS _agora_engine_files)
  file(STRINGS ${_f} _bad REGEX "#include [<\"](platform/|boost/|sqlite3|libpq|curl/)")
  if(_bad)
    message(FATAL_ERROR "layering: ${_f} includes ${_bad}; src/engine must not depend on the platform")
  endif()
  if(NOT _f MATCHES "json_schema")
    file(STRINGS ${_f} _json REGEX "#include [<\"]nlohmann/")
    if(_json)
      message(FATAL_ERROR "layering: ${_f} includes nlohmann JSON; the engine knows no JSON")
    endif()
  endif()
endforeach()
