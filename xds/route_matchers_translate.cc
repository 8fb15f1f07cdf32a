#include "xds/route_matchers_translate.h"

#include "xds/unsupported_fields.h"

namespace sluice::xds {

using config::StringMatcher;
namespace em = envoy::type::matcher::v3;
namespace er = envoy::config::route::v3;

void stringMatcherToEnvoy(const StringMatcher& m, em::StringMatcher& out) {
  switch (m.kind) {
    case StringMatcher::Kind::Exact: out.set_exact(m.value); break;
    case StringMatcher::Kind::Prefix: out.set_prefix(m.value); break;
    case StringMatcher::Kind::Suffix: out.set_suffix(m.value); break;
    case StringMatcher::Kind::Contains: out.set_contains(m.value); break;
    case StringMatcher::Kind::Regex: out.mutable_safe_regex()->set_regex(m.value); break;
    case StringMatcher::Kind::Present: break;
  }
}

FieldError stringMatcherFromEnvoy(const em::StringMatcher& in, std::string_view path, StringMatcher& out) {
  if (in.ignore_case()) return {fieldPath(path, "ignore_case"), "not supported by Sluice (matches are case-sensitive)"};
  switch (in.match_pattern_case()) {
    case em::StringMatcher::kExact: out.kind = StringMatcher::Kind::Exact; out.value = in.exact(); break;
    case em::StringMatcher::kPrefix: out.kind = StringMatcher::Kind::Prefix; out.value = in.prefix(); break;
    case em::StringMatcher::kSuffix: out.kind = StringMatcher::Kind::Suffix; out.value = in.suffix(); break;
    case em::StringMatcher::kContains: out.kind = StringMatcher::Kind::Contains; out.value = in.contains(); break;
    case em::StringMatcher::kSafeRegex:
      if (auto e = unsupportedField(in.safe_regex(), fieldPath(path, "safe_regex"), {"regex", "google_re2"});
          !e.empty())
        return e;
      out.kind = StringMatcher::Kind::Regex;
      out.value = in.safe_regex().regex();
      break;
    default:
      return {std::string(path), "needs exact, prefix, suffix, contains or safe_regex"};
  }
  return {};
}

void headerMatcherToEnvoy(const config::HeaderMatcher& m, er::HeaderMatcher& out) {
  out.set_name(m.name);
  if (m.matcher.kind == StringMatcher::Kind::Present) out.set_present_match(true);
  else stringMatcherToEnvoy(m.matcher, *out.mutable_string_match());
  out.set_invert_match(m.matcher.invert);
}

FieldError headerMatcherFromEnvoy(const er::HeaderMatcher& in, std::string_view path, config::HeaderMatcher& out) {
  if (auto e = unsupportedField(in, path,
                                {"name", "exact_match", "safe_regex_match", "present_match", "prefix_match",
                                 "suffix_match", "contains_match", "string_match", "invert_match"});
      !e.empty())
    return e;
  if (in.name().empty()) return {fieldPath(path, "name"), "required"};
  out.name = in.name();
  auto& m = out.matcher;
  m.invert = in.invert_match();
  // The deprecated forms: other servers (and gRPC's own tests) still send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  switch (in.header_match_specifier_case()) {
    case er::HeaderMatcher::kExactMatch: m.kind = StringMatcher::Kind::Exact; m.value = in.exact_match(); break;
    case er::HeaderMatcher::kPrefixMatch: m.kind = StringMatcher::Kind::Prefix; m.value = in.prefix_match(); break;
    case er::HeaderMatcher::kSuffixMatch: m.kind = StringMatcher::Kind::Suffix; m.value = in.suffix_match(); break;
    case er::HeaderMatcher::kContainsMatch:
      m.kind = StringMatcher::Kind::Contains;
      m.value = in.contains_match();
      break;
    case er::HeaderMatcher::kSafeRegexMatch:
      m.kind = StringMatcher::Kind::Regex;
      m.value = in.safe_regex_match().regex();
      break;
    case er::HeaderMatcher::kPresentMatch:
      m.kind = StringMatcher::Kind::Present;
      // present_match: false matches a missing header: the inverse of present.
      if (!in.present_match()) m.invert = !m.invert;
      break;
    case er::HeaderMatcher::kStringMatch: {
      const bool invert = m.invert;
      if (auto e = stringMatcherFromEnvoy(in.string_match(), fieldPath(path, "string_match"), m); !e.empty())
        return e;
      m.invert = invert;
      break;
    }
    default:
      // Envoy: no specifier matches when the header is present.
      m.kind = StringMatcher::Kind::Present;
      break;
  }
#pragma GCC diagnostic pop
  return {};
}

void queryMatcherToEnvoy(const config::QueryParameterMatcher& m, er::QueryParameterMatcher& out) {
  out.set_name(m.name);
  if (m.matcher.kind == StringMatcher::Kind::Present) out.set_present_match(true);
  else stringMatcherToEnvoy(m.matcher, *out.mutable_string_match());
}

FieldError queryMatcherFromEnvoy(const er::QueryParameterMatcher& in, std::string_view path,
                                 config::QueryParameterMatcher& out) {
  if (auto e = unsupportedField(in, path, {"name", "string_match", "present_match"}); !e.empty()) return e;
  out.name = in.name();
  if (in.has_string_match())
    return stringMatcherFromEnvoy(in.string_match(), fieldPath(path, "string_match"), out.matcher);
  if (in.query_parameter_match_specifier_case() == er::QueryParameterMatcher::kPresentMatch && !in.present_match())
    return {fieldPath(path, "present_match"), "false is not supported by Sluice"};
  out.matcher.kind = StringMatcher::Kind::Present;
  return {};
}

}  // namespace sluice::xds
