// Parsing request bodies at the edge: JSON text → nlohmann::json, with the nesting depth checked
// by a linear scan *before* the parser runs (so a 10^5-deep body costs O(n) and no stack), and
// duplicate object keys rejected (a later key silently winning hides client bugs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "platform/api_error.h"

namespace agora::platform {

// The deepest array/object nesting in `text` (strings skipped), scanning stops once it passes
// `stop_above`. Does not validate the JSON.
int json_nesting_depth(std::string_view text, int stop_above);

// Parses `body`: 400 naming the limit when deeper than `max_depth`, 400 with the parser's
// message on bad JSON or invalid UTF-8, 400 on a duplicate key, 400 when the top level is not
// an object.
ApiResult<nlohmann::json> parse_json_body(std::string_view body, int max_depth);

// Typed reads of one object's fields with OpenAI-style errors that name the parameter
// (`param` = prefix + key). The first error is kept; later reads are no-ops once one occurred.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& obj, std::string prefix, std::optional<ApiError>& error)
      : obj_(obj), prefix_(std::move(prefix)), error_(error) {}

  // True when `key` is present and not null.
  bool has(const char* key) const;
  const nlohmann::json* find(const char* key) const;  // present and not null, else nullptr
  std::string param(const char* key) const { return prefix_ + key; }

  bool read(const char* key, bool& out);
  bool read(const char* key, std::string& out, size_t max_bytes = SIZE_MAX);
  bool read(const char* key, double& out, double lo, double hi);
  bool read(const char* key, float& out, double lo, double hi);
  bool read(const char* key, int64_t& out, int64_t lo, int64_t hi);
  bool read(const char* key, std::optional<float>& out, double lo, double hi);
  bool read(const char* key, std::optional<int64_t>& out, int64_t lo, int64_t hi);

  // Sets the error (if none yet) and returns false.
  bool fail(const std::string& param, const std::string& message);
  bool failed() const { return error_.has_value(); }

 private:
  const nlohmann::json& obj_;
  std::string prefix_;
  std::optional<ApiError>& error_;
};

const char* json_type_name(const nlohmann::json& v);

}  // namespace agora::platform
