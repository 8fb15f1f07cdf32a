#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string_view>

namespace sluice::config {
namespace {

// Sees a document's events only to learn where its first node is.
class FirstNodeMark final : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { see(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnMapEnd() override {}

 private:
  void see(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

}  // namespace

namespace {

// Where `text` stops being UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF); npos when it all is. yaml-cpp takes
// any bytes, but every string of a config ends up in JSON (/config_dump,
// the snapshot's identity of a listener), which takes UTF-8 only: a stray
// Latin-1 byte in a stat_prefix made the JSON writer throw (found by the
// config_loader fuzz target).
size_t firstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c == 0xE0)
      len = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
      len = 3;
    else if (c == 0xED)
      len = 3, hi = 0x9F;
    else if (c == 0xF0)
      len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
      len = 4;
    else if (c == 0xF4)
      len = 4, hi = 0x8F;
    else
      return i;
    if (i + len > text.size()) return i;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < lo || second > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

// True when `root` (the first document of `text`) is all of it, known
// without a second parse (which costs as much as the first: a generated
// mesh is megabytes). A block mapping that starts at column 0 ends only
// where its indentation can drop below 0: at the end of the text, or at a
// document marker ("---", "...") or a directive ("%"), all three only at
// the start of a line. Anything else after it inside the map is a syntax
// error, which Load has thrown. Other roots take the exact count.
bool cannotHoldASecondDocument(std::string_view text, const YAML::Node& root) {
  if (!root.IsMap() || root.Style() != YAML::EmitterStyle::Block || root.Mark().column != 0) return false;
  for (size_t line = 0; line < text.size();) {
    const std::string_view rest = text.substr(line);
    if (rest.starts_with('%') || rest.starts_with("---") || rest.starts_with("...")) return false;
    const size_t nl = text.find('\n', line);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  return true;
}

}  // namespace

YAML::Node loadSingleDocument(const std::string& text, ParseContext& ctx) {
  if (const size_t bad = firstInvalidUtf8(text); bad != std::string_view::npos) {
    YAML::Mark at;
    at.pos = static_cast<int>(bad);
    const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    at.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
    at.column = static_cast<int>(line_start == std::string::npos || bad == 0 ? bad : bad - line_start - 1);
    throw YAML::ParserException(at, "not valid UTF-8 (a YAML file is UTF-8 text)");
  }
  const YAML::Node root = YAML::Load(text);
  if (cannotHoldASecondDocument(text, root)) return root;
  // Count documents, but never past the second: that is the bound LoadAll lacks.
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstNodeMark first;
  if (parser.HandleNextDocument(first)) {
    FirstNodeMark second;
    if (parser.HandleNextDocument(second) && second.mark)
      ctx.error(SourceLoc{second.mark->line + 1, second.mark->column + 1}, "", "expected a single YAML document");
  }
  return root;
}

}  // namespace sluice::config
