// Global functions of the template environment (Jinja's defaults plus transformers' additions)
// and the date/time support behind strftime_now.
#include <ctime>

#include "engine/chat/template_evaluator.h"

namespace agora::chat {

std::optional<TemplateTime> parse_iso_time(const std::string& s) {
  TemplateTime t;
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second);
  if (n < 3) n = std::sscanf(s.c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second);
  if (n < 3 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour < 0 || t.hour > 23 ||
      t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60)
    return std::nullopt;
  return t;
}

TemplateTime current_time() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return TemplateTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

namespace {
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

std::string format_time(const TemplateTime& t, const std::string& format) {
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  static const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  int64_t days = days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day));
  int weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday (3)
  int yday = static_cast<int>(days - days_from_civil(t.year, 1, 1)) + 1;
  std::string out;
  char b[32];
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    char c = format[++i];
    switch (c) {
      case 'd': std::snprintf(b, sizeof b, "%02d", t.day); out += b; break;
      case 'e': std::snprintf(b, sizeof b, "%2d", t.day); out += b; break;
      case 'm': std::snprintf(b, sizeof b, "%02d", t.month); out += b; break;
      case 'Y': out += std::to_string(t.year); break;
      case 'y': std::snprintf(b, sizeof b, "%02d", t.year % 100); out += b; break;
      case 'H': std::snprintf(b, sizeof b, "%02d", t.hour); out += b; break;
      case 'I': std::snprintf(b, sizeof b, "%02d", t.hour % 12 == 0 ? 12 : t.hour % 12); out += b; break;
      case 'M': std::snprintf(b, sizeof b, "%02d", t.minute); out += b; break;
      case 'S': std::snprintf(b, sizeof b, "%02d", t.second); out += b; break;
      case 'p': out += t.hour < 12 ? "AM" : "PM"; break;
      case 'B': out += kMonths[t.month - 1]; break;
      case 'b':
      case 'h': out += std::string(kMonths[t.month - 1]).substr(0, 3); break;
      case 'A': out += kDays[weekday]; break;
      case 'a': out += std::string(kDays[weekday]).substr(0, 3); break;
      case 'j': std::snprintf(b, sizeof b, "%03d", yday); out += b; break;
      case 'w': out += std::to_string((weekday + 1) % 7); break;
      case 'u': out += std::to_string(weekday + 1); break;
      case 'F': std::snprintf(b, sizeof b, "%04d-%02d-%02d", t.year, t.month, t.day); out += b; break;
      case 'T': std::snprintf(b, sizeof b, "%02d:%02d:%02d", t.hour, t.minute, t.second); out += b; break;
      case '%': out += '%'; break;
      default: out += '%'; out += c;
    }
  }
  return out;
}

Value get_builtin(const std::string& name) {
  if (name == "range") {
    return Value::callable("range", [](Interpreter& in, CallArgs& a) {
      int64_t start = 0, stop = 0, step = 1;
      for (const auto& v : a.positional)
        if (!v.is_int() && !v.is_bool()) in.fail("TypeError: range() arguments must be integers, not " + v.type_name());
      if (a.positional.size() == 1) {
        stop = a.positional[0].as_int();
      } else if (a.positional.size() >= 2) {
        start = a.positional[0].as_int();
        stop = a.positional[1].as_int();
        if (a.positional.size() >= 3) step = a.positional[2].as_int();
      } else {
        in.fail("TypeError: range expected at least 1 argument");
      }
      if (step == 0) in.fail("ValueError: range() arg 3 must not be zero");
      std::vector<Value> out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<int64_t>(out.size()) >= in.limits().max_range)
          in.fail("OverflowError: range too big, maximum size for range is " + std::to_string(in.limits().max_range));
        out.push_back(Value::integer(i));
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
      }
      return Value::list(std::move(out));
    });
  }
  if (name == "namespace" || name == "dict") {
    bool is_ns = name == "namespace";
    return Value::callable(name, [is_ns](Interpreter& in, CallArgs& a) {
      Value v = is_ns ? Value::make_namespace() : Value::dict();
      for (const auto& p : a.positional) {
        if (!p.is_dict()) in.fail("TypeError: " + std::string(is_ns ? "namespace" : "dict") + "() positional argument must be a dict");
        for (const auto& kv : p.dict_data().entries) v.dict_data().set(kv.first, kv.second);
      }
      for (const auto& [k, val] : a.keyword) v.dict_data().set(k, val);
      return v;
    });
  }
  if (name == "raise_exception") {
    return Value::callable(name, [](Interpreter& in, CallArgs& a) -> Value {
      in.fail("TemplateError: " + to_str(a.get(0, "message")));
    });
  }
  if (name == "strftime_now") {
    return Value::callable(name, [](Interpreter& in, CallArgs& a) {
      Value f = a.get(0, "format");
      if (!f.is_string()) in.fail("TypeError: strftime() argument 1 must be str");
      return Value::string(format_time(in.now(), f.str()));
    });
  }
  return Value();
}

}  // namespace agora::chat
