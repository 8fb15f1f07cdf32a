#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <optional>
#include <sstream>

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

YAML::Node loadSingleDocument(const std::string& text, ParseContext& ctx) {
  const YAML::Node root = YAML::Load(text);
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
