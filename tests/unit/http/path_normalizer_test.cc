// The path normalizer: RFC 3986 dot-segment removal (its own examples),
// escapes, the hostile forms that slip past prefix rules elsewhere, each
// option, the cost of a normal path, and properties over generated paths.
#include "proxy/http/path_normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sluice::http {
namespace {

using config::EscapedSlashes;
using config::PathNormalizationSettings;
using Kind = NormalizedPath::Kind;

// What a test expects: a path (normalized, or the same when unchanged), a
// 400 with its error, or a 307 to a path.
struct Want {
  Kind kind;
  std::string path;
  PathError error = PathError::None;
};
Want same(const std::string& p) { return {Kind::Unchanged, p}; }
Want to(const std::string& p) { return {Kind::Normalized, p}; }
Want redirect(const std::string& p) { return {Kind::Redirect, p}; }
Want refused(PathError e) { return {Kind::Reject, "", e}; }

void expectNormalizes(const std::string& in, const Want& want, const PathNormalizationSettings& s = {}) {
  std::string scratch;
  const NormalizedPath got = normalizePath(in, s, scratch);
  EXPECT_EQ(got.kind, want.kind) << in;
  if (want.kind == Kind::Reject) {
    EXPECT_EQ(got.error, want.error) << in;
  } else {
    EXPECT_EQ(got.path, want.path) << in;
  }
}

struct Case {
  const char* in;
  Want want;
};

// RFC 3986 5.4.1 / 5.4.2 against the base "http://a/b/c/d;p?q", as the path
// a client sends after merging the reference with the base path (5.2.3):
// "../g" arrives as "/b/c/../g".
TEST(PathNormalizerRfc3986, NormalExamples541) {
  const std::vector<Case> cases = {
      {"/b/c/g", same("/b/c/g")},            // "g"
      {"/b/c/./g", to("/b/c/g")},            // "./g"
      {"/b/c/g/", same("/b/c/g/")},          // "g/"
      {"/g", same("/g")},                    // "/g"
      {"/b/c/d;p?y", same("/b/c/d;p?y")},    // "?y"
      {"/b/c/g?y", same("/b/c/g?y")},        // "g?y"
      {"/b/c/;x", same("/b/c/;x")},          // ";x"
      {"/b/c/g;x", same("/b/c/g;x")},        // "g;x"
      {"/b/c/g;x?y", same("/b/c/g;x?y")},    // "g;x?y"
      {"/b/c/d;p?q", same("/b/c/d;p?q")},    // ""
      {"/b/c/.", to("/b/c/")},               // "."
      {"/b/c/./", to("/b/c/")},              // "./"
      {"/b/c/..", to("/b/")},                // ".."
      {"/b/c/../", to("/b/")},               // "../"
      {"/b/c/../g", to("/b/g")},             // "../g"
      {"/b/c/../..", to("/")},               // "../.."
      {"/b/c/../../", to("/")},              // "../../"
      {"/b/c/../../g", to("/g")},            // "../../g"
  };
  for (const auto& c : cases) expectNormalizes(c.in, c.want);
}

TEST(PathNormalizerRfc3986, AbnormalExamples542) {
  const std::vector<Case> cases = {
      // 5.4.2 resolves these to "/g" by stopping at the root; a request that
      // tries to climb out is hostile, so it is refused instead.
      {"/b/c/../../../g", refused(PathError::AboveRoot)},     // "../../../g"
      {"/b/c/../../../../g", refused(PathError::AboveRoot)},  // "../../../../g"
      {"/../g", refused(PathError::AboveRoot)},               // "/../g"
      {"/./g", to("/g")},                                     // "/./g"
      // Dots that are part of a segment name are not dot segments.
      {"/b/c/g.", same("/b/c/g.")},    // "g."
      {"/b/c/.g", same("/b/c/.g")},    // ".g"
      {"/b/c/g..", same("/b/c/g..")},  // "g.."
      {"/b/c/..g", same("/b/c/..g")},  // "..g"
      // Unnecessary dot segments.
      {"/b/c/./../g", to("/b/g")},                   // "./../g"
      {"/b/c/./g/.", to("/b/c/g/")},                 // "./g/."
      {"/b/c/g/./h", to("/b/c/g/h")},                // "g/./h"
      {"/b/c/g/../h", to("/b/c/h")},                 // "g/../h"
      {"/b/c/g;x=1/./y", to("/b/c/g;x=1/y")},        // "g;x=1/./y"
      {"/b/c/g;x=1/../y", to("/b/c/y")},             // "g;x=1/../y"
      // The query is not part of the path: its dot segments stay.
      {"/b/c/g?y/./x", same("/b/c/g?y/./x")},    // "g?y/./x"
      {"/b/c/g?y/../x", same("/b/c/g?y/../x")},  // "g?y/../x"
      // "g#s/./x": a request never carries a fragment (RFC 9112 3.2).
      {"/b/c/g#s/./x", refused(PathError::Fragment)},
  };
  for (const auto& c : cases) expectNormalizes(c.in, c.want);
}

// RFC 3986 5.2.4's own walk-through.
TEST(PathNormalizerRfc3986, RemoveDotSegmentsExample524) {
  expectNormalizes("/a/b/c/./../../g", to("/a/g"));
  expectNormalizes("/mid/content=5/../6", to("/mid/6"));
}

// The forms that reach /admin on an upstream while a rule on "/admin" looks
// at something else (Envoy CVE-2019-9901, CVE-2021-29492 and kin). Default
// settings: each becomes "/admin" (so the /admin rules apply) or is refused.
TEST(PathNormalizerHostile, DefaultSettings) {
  const std::vector<Case> cases = {
      {"/x/../admin", to("/admin")},                            // 5.2.4
      {"/x/%2e%2e/admin", to("/admin")},                        // 2.3: %2E is '.', then 5.2.4
      {"/%2e%2e/admin", refused(PathError::AboveRoot)},         // 2.3 then 5.2.4, above the root
      {"/%2E%2E/admin", refused(PathError::AboveRoot)},         // 2.1: hex case is insignificant
      {"/x/.%2E/admin", to("/admin")},                          // 2.3, mixed
      {"/%61dmin", to("/admin")},                               // 2.3: 'a' is unreserved
      {"/%41DMIN", to("/ADMIN")},                               // 2.3; routes stay case-sensitive
      {"//admin", to("/admin")},                                // merge_slashes
      {"///admin//x", to("/admin/x")},                          // merge_slashes
      {"/admin/.", to("/admin/")},                              // 5.2.4, trailing "." keeps the slash
      {"/admin/./", to("/admin/")},                             // 5.2.4
      {"/./admin", to("/admin")},                               // 5.2.4
      {"/x%2F..%2Fadmin", refused(PathError::EscapedSlash)},    // 2.2: %2F is data, upstreams disagree
      {"/x/..%2fadmin", refused(PathError::EscapedSlash)},      // same, lower-case hex
      {"/x/..%5cadmin", refused(PathError::EscapedSlash)},      // %5C: '\', a separator on Windows
      {"/x/..;/admin", refused(PathError::PathParameterDotSegment)},  // 3.3 params; Tomcat resolves "..;"
      {"/x/.;/admin", refused(PathError::PathParameterDotSegment)},
      {"/x/..;jsessionid=1/admin", refused(PathError::PathParameterDotSegment)},
      {"/\\admin", refused(PathError::Backslash)},              // not a URI character (2)
      {"/x/..\\admin", refused(PathError::Backslash)},
      // Overlong UTF-8 dots: a lenient decoder's "..", refused (RFC 3629 3).
      {"/%c0%ae%c0%ae/admin", refused(PathError::OverlongUtf8)},
      // Double escapes are not unreserved characters: no dot segment appears.
      {"/%252e%252e/admin", same("/%252e%252e/admin")},       // decoded once: "%25" stays an escape
      {"/%2e%2e%2e/admin", to("/.../admin")},                 // three dots: a name, not ".."
      {"/x/%2e%2e%2e%2e/%2e%2e/admin", to("/x/admin")},
      {"/..", refused(PathError::AboveRoot)},                 // 5.2.4, above the root
      {"/a/../..", refused(PathError::AboveRoot)},
      {"/../../etc/passwd", refused(PathError::AboveRoot)},
      {"/a/b/../../../admin", refused(PathError::AboveRoot)},
      {"/a%00b", refused(PathError::EncodedNul)},             // NUL ends strings upstream
      {"/admin%00.html", refused(PathError::EncodedNul)},
      {"/a%", refused(PathError::BadEscape)},                 // 2.1: '%' then two HEXDIG
      {"/a%2", refused(PathError::BadEscape)},
      {"/a%zz", refused(PathError::BadEscape)},
      {"/a%g1", refused(PathError::BadEscape)},
      {"/a%1", refused(PathError::BadEscape)},
      {"/admin#x", refused(PathError::Fragment)},
  };
  for (const auto& c : cases) expectNormalizes(c.in, c.want);
}

TEST(PathNormalizerEscapes, CanonicalForm6221) {
  expectNormalizes("/%7euser", to("/~user"));              // 2.3
  expectNormalizes("/a%2a", to("/a%2A"));                  // 6.2.2.1: upper-case hex
  expectNormalizes("/a%20b", same("/a%20b"));              // already canonical
  expectNormalizes("/%41%42%2d%5F%7E", to("/AB-_~"));
  expectNormalizes("/a%3Fb", same("/a%3Fb"));              // an escaped '?' stays in the path
}

TEST(PathNormalizerQuery, NeverAltered) {
  expectNormalizes("/a/../b?x=/../%2F&y=%41#", to("/b?x=/../%2F&y=%41#"));
  expectNormalizes("/a?%zz", same("/a?%zz"));
  expectNormalizes("//a?//b", to("/a?//b"));
}

TEST(PathNormalizerForms, NotOriginFormIsLeftAlone) {
  expectNormalizes("*", same("*"));
  expectNormalizes("", same(""));
  expectNormalizes("example.com:443", same("example.com:443"));
}

TEST(PathNormalizerOptions, EscapedSlashActions) {
  PathNormalizationSettings keep;
  keep.path_with_escaped_slashes = EscapedSlashes::Keep;
  expectNormalizes("/x%2F..%2Fadmin", same("/x%2F..%2Fadmin"), keep);  // one opaque segment
  expectNormalizes("/x/..%2fadmin", to("/x/..%2Fadmin"), keep);
  expectNormalizes("/a%5cb", to("/a%5Cb"), keep);

  PathNormalizationSettings forward;
  forward.path_with_escaped_slashes = EscapedSlashes::UnescapeAndForward;
  expectNormalizes("/x%2F..%2Fadmin", to("/admin"), forward);
  expectNormalizes("/x/..%2fadmin", to("/admin"), forward);
  expectNormalizes("/x/..%5Cadmin", to("/admin"), forward);
  expectNormalizes("/%2F%2Fadmin", to("/admin"), forward);
  expectNormalizes("/%2F..%2F..", refused(PathError::AboveRoot), forward);

  PathNormalizationSettings redir;
  redir.path_with_escaped_slashes = EscapedSlashes::UnescapeAndRedirect;
  expectNormalizes("/x%2F..%2Fadmin?q=%2F", redirect("/admin?q=%2F"), redir);
  expectNormalizes("/a%2fb", redirect("/a/b"), redir);
  expectNormalizes("/a/../b", to("/b"), redir);  // no escaped slash: forwarded, not redirected
  expectNormalizes("/%2F..%2F..", refused(PathError::AboveRoot), redir);
}

// A Location starting "//" or "/\\" is a network-path reference (RFC 3986
// 4.2): a browser would follow it to another host. Refused instead.
TEST(PathNormalizerOptions, RedirectNeverPointsOffSite) {
  PathNormalizationSettings redir;
  redir.path_with_escaped_slashes = EscapedSlashes::UnescapeAndRedirect;
  redir.merge_slashes = false;
  expectNormalizes("/%2Fevil.com", refused(PathError::EscapedSlash), redir);
  expectNormalizes("/%5Cevil.com", refused(PathError::EscapedSlash), redir);
  redir.merge_slashes = true;
  expectNormalizes("/%2Fevil.com", redirect("/evil.com"), redir);
}

TEST(PathNormalizerOptions, MergeSlashesOff) {
  PathNormalizationSettings s;
  s.merge_slashes = false;
  expectNormalizes("//admin", same("//admin"), s);
  expectNormalizes("/a//b/../c", to("/a//c"), s);
  expectNormalizes("/a//.", to("/a//"), s);  // 5.2.4 keeps the empty segment
}

TEST(PathNormalizerOptions, NormalizePathOff) {
  PathNormalizationSettings s;
  s.normalize_path = false;
  expectNormalizes("/x/../admin", same("/x/../admin"), s);
  expectNormalizes("/%61dmin", same("/%61dmin"), s);
  expectNormalizes("/a%2a", same("/a%2a"), s);
  expectNormalizes("//admin", to("/admin"), s);  // merge_slashes is its own option
  expectNormalizes("/a%00", refused(PathError::EncodedNul), s);
  expectNormalizes("/a%2F", refused(PathError::EscapedSlash), s);
  expectNormalizes("/x/..;/a", refused(PathError::PathParameterDotSegment), s);
}

TEST(PathNormalizerOptions, BackslashAndPathParametersAllowed) {
  PathNormalizationSettings s;
  s.reject_backslash = false;
  s.reject_path_parameters_dot_segments = false;
  expectNormalizes("/\\admin", to("/admin"), s);  // read as '/', then merged
  expectNormalizes("/x/..\\admin", to("/admin"), s);
  expectNormalizes("/x/..;/admin", same("/x/..;/admin"), s);  // an ordinary segment name
  expectNormalizes("/x/.;a", same("/x/.;a"), s);
}

// RFC 3629 3: "Implementations of the decoding algorithm above MUST protect
// against decoding invalid sequences", overlong forms among them (C0 AE is
// '.' in two bytes). A server that decodes them anyway sees "/../" where the
// routes saw an opaque segment: each is a 400 by default, escaped or raw.
TEST(PathNormalizerUtf8, OverlongFormsAreRefused_Rfc3629_3) {
  const std::vector<std::string> overlong = {
      "/%C0%AE%C0%AE/admin",             // ".." in two bytes
      "/x/%c0%ae%c0%ae/admin",           // lower-case hex
      "/%C0%AF",                         // '/' in two bytes
      "/x%C0%AF..%C0%AFadmin",
      "/%C1%9C",                         // '\' in two bytes
      "/%C0%80",                         // NUL in two bytes
      "/%E0%80%AE%E0%80%AE/admin",       // '.' in three bytes
      "/%E0%80%AF",                      // '/' in three bytes
      "/%E0%9F%BF",                      // U+07FF in three bytes
      // E0 and F0 without a continuation byte after them: a decoder that
      // masks bits without checking them reads E0 40 AE as '.'.
      "/x/%E0%40%AE%E0%40%AE/admin",
      "/\xE0\x40\xAE",
      "/%F0%2E%80%AE",
      "/%F0%80%80%AE",                   // '.' in four bytes
      "/%F0%8F%BF%BF",                   // U+FFFF in four bytes
      "/%F8%80%80%80%AE",                // five bytes (pre-RFC 3629 UTF-8)
      "/%FC%80%80%80%80%AF",             // six bytes
      "/%FE", "/%FF",
      "/\xC0\xAE\xC0\xAE/admin",         // raw bytes (HTTP/2 can carry them)
      "/\xE0\x80\xAE",
      "/%E0\x80\xAE",                    // escaped lead, raw continuation
  };
  for (const auto& p : overlong) expectNormalizes(p, refused(PathError::OverlongUtf8));
  // Well-formed UTF-8 at the edges of those ranges is not refused.
  for (const char* p : {"/caf%C3%A9", "/%C2%80", "/%E0%A0%80", "/%F0%90%80%80", "/%ED%9F%BF", "/%EF%BF%BD",
                        "/%F4%8F%BF%BF"}) {
    std::string scratch;
    EXPECT_NE(normalizePath(p, PathNormalizationSettings{}, scratch).kind, Kind::Reject) << p;
  }
  // Raw well-formed three- and four-byte forms (Devanagari, an emoji) stay
  // on the fast path: unchanged, the scratch untouched.
  for (const char* p : {"/\xE0\xA4\x95", "/a/\xF0\x9F\x99\x82/b"}) {
    std::string scratch;
    const auto r = normalizePath(p, PathNormalizationSettings{}, scratch);
    EXPECT_EQ(r.kind, Kind::Unchanged) << p;
    EXPECT_EQ(scratch.capacity(), std::string().capacity()) << p;
  }
  // The query is not the path's business.
  expectNormalizes("/a?x=%C0%AE", same("/a?x=%C0%AE"));
  // Off: forwarded as sent (hex upper-cased, as any kept escape).
  PathNormalizationSettings off;
  off.reject_overlong_utf8 = false;
  expectNormalizes("/%c0%ae%c0%ae/admin", to("/%C0%AE%C0%AE/admin"), off);
  expectNormalizes("/\xC0\xAE", same("/\xC0\xAE"), off);
}

TEST(PathNormalizerErrors, TextAndDetails) {
  EXPECT_EQ(pathErrorDetails(PathError::EscapedSlash), "escaped_slash");
  EXPECT_EQ(pathErrorDetails(PathError::AboveRoot), "path_normalization_failed");
  EXPECT_EQ(pathErrorText(PathError::BadEscape), "malformed percent-encoding");
  EXPECT_EQ(pathErrorDetails(PathError::OverlongUtf8), "path_normalization_failed");
  EXPECT_EQ(pathErrorText(PathError::OverlongUtf8), "overlong UTF-8 sequence");
}

// The hot path: a path already normal is one scan; the scratch is never
// written (so never grown) and the result views the input itself.
TEST(PathNormalizerCost, NormalPathIsOnlyScanned) {
  for (const char* p : {"/", "/api/v1/users/42", "/a.b/c..d/.e/f.", "/a?b=//../%zz", "/a/b/"}) {
    std::string scratch;
    const std::string in = p;
    const NormalizedPath got = normalizePath(in, PathNormalizationSettings{}, scratch);
    EXPECT_EQ(got.kind, Kind::Unchanged) << p;
    EXPECT_EQ(got.path.data(), in.data()) << p;
    EXPECT_EQ(scratch.capacity(), std::string().capacity()) << p;
  }
}

// RFC 3986 5.2.4 as written (the input/output buffer algorithm), as an
// oracle for dot removal without slash merging. `climbed` is set when a
// ".." meets an empty output: where the normalizer answers 400.
std::string removeDotSegments(std::string in, bool& climbed) {
  std::string out;
  auto dropLastSegment = [&] {
    if (out.empty()) climbed = true;
    const size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.rfind("../", 0) == 0) {
      in.erase(0, 3);
    } else if (in.rfind("./", 0) == 0) {
      in.erase(0, 2);
    } else if (in.rfind("/./", 0) == 0) {
      in.replace(0, 3, "/");
    } else if (in == "/.") {
      in = "/";
    } else if (in.rfind("/../", 0) == 0) {
      in.replace(0, 4, "/");
      dropLastSegment();
    } else if (in == "/..") {
      in = "/";
      dropLastSegment();
    } else if (in == "." || in == "..") {
      in.clear();
    } else {
      const size_t end = in.find('/', in[0] == '/' ? 1 : 0);
      out += in.substr(0, end);
      in.erase(0, end == std::string::npos ? in.size() : end);
    }
  }
  return out;
}

std::string randomPath(std::mt19937& rng, const std::vector<std::string>& pieces) {
  std::uniform_int_distribution<size_t> len(1, 12);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string p = "/";
  for (size_t i = len(rng); i > 0; --i) p += pieces[pick(rng)];
  return p;
}

TEST(PathNormalizerProperty, MatchesRfc5244WithoutMerging) {
  std::mt19937 rng(3986);
  const std::vector<std::string> pieces = {"/", "a", "b", ".", "..", "/.", "/..", "./", "../"};
  PathNormalizationSettings s;
  s.merge_slashes = false;
  std::string scratch;
  for (int i = 0; i < 20000; ++i) {
    const std::string in = randomPath(rng, pieces);
    bool climbed = false;
    const std::string want = removeDotSegments(in, climbed);
    const NormalizedPath got = normalizePath(in, s, scratch);
    if (climbed) {
      EXPECT_EQ(got.kind, Kind::Reject) << in;
      EXPECT_EQ(got.error, PathError::AboveRoot) << in;
    } else {
      ASSERT_NE(got.kind, Kind::Reject) << in;
      EXPECT_EQ(got.path, want.empty() ? "/" : want) << in;
    }
  }
}

bool hasDotSegment(std::string_view p) {
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view seg = p.substr(start, end - start);
    if (seg == "." || seg == "..") return true;
    start = end + 1;
  }
  return false;
}

bool hasEscapedSlash(std::string_view p) {
  for (size_t i = 0; i + 2 < p.size(); ++i) {
    if (p[i] != '%') continue;
    const char a = p[i + 1];
    const char b = static_cast<char>(p[i + 2] | 0x20);
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c')) return true;
  }
  return false;
}

// Over many generated paths and every escaped-slash action: normalizing the
// result again changes nothing, and what comes out has no dot segment, no
// "//" and no escaped slash (unless kept on purpose).
TEST(PathNormalizerProperty, IdempotentAndClean) {
  std::mt19937 rng(9901);
  const std::vector<std::string> pieces = {"/",   "//",  "a",   "B",   ".",   "..",  "%2e", "%2E", "%2f", "%2F",
                                           "%5c", "%5C", "%41", "%7e", "%25", "%20", "%c0", ";",   ".;",  "..;",
                                           "\\",  "?",   "%",   "%0",  "%zz", "%00", "~",   "-",   "/..", "/."};
  for (EscapedSlashes action : {EscapedSlashes::Reject, EscapedSlashes::Keep, EscapedSlashes::UnescapeAndRedirect,
                                EscapedSlashes::UnescapeAndForward}) {
    for (bool lenient : {false, true}) {
      PathNormalizationSettings s;
      s.path_with_escaped_slashes = action;
      s.reject_backslash = !lenient;
      s.reject_path_parameters_dot_segments = !lenient;
      std::string scratch;
      std::string again_scratch;
      for (int i = 0; i < 5000; ++i) {
        const std::string in = randomPath(rng, pieces);
        const NormalizedPath got = normalizePath(in, s, scratch);
        if (got.kind == Kind::Reject) continue;
        const std::string out(got.path);
        const NormalizedPath again = normalizePath(out, s, again_scratch);
        EXPECT_EQ(again.kind, Kind::Unchanged) << in << " -> " << out;
        EXPECT_EQ(again.path, out) << in;
        const std::string_view bare = std::string_view(out).substr(0, out.find('?'));
        EXPECT_FALSE(hasDotSegment(bare)) << in << " -> " << out;
        EXPECT_EQ(bare.find("//"), std::string_view::npos) << in << " -> " << out;
        EXPECT_EQ(bare.find('\\'), std::string_view::npos) << in << " -> " << out;
        if (action != EscapedSlashes::Keep) {
          EXPECT_FALSE(hasEscapedSlash(bare)) << in << " -> " << out;
        }
        EXPECT_EQ(out.substr(out.find('?') == std::string::npos ? out.size() : out.find('?')),
                  in.substr(in.find('?') == std::string::npos ? in.size() : in.find('?')))
            << "the query is kept: " << in;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::http
