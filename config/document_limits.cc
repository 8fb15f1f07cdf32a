#include "config/document_limits.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::config {
namespace {

// Counts the expanded size from the parser's events, once per node of the
// text: an anchor's size is known when its node ends, and an alias adds
// it. The tree cannot be counted as cheaply: yaml-cpp's nodes have no
// identity to remember a counted anchor by, and a walk meets every copy.
// An alias inside its own anchor is a cycle (yaml-cpp builds one), which
// no walk would finish.
class ExpandedSizeCounter final : public YAML::EventHandler {
 public:
  explicit ExpandedSizeCounter(size_t limit) : limit_(limit) {}

  size_t total() const { return total_; }
  // Where counting stopped, and why; empty while all is well.
  const std::string& problem() const { return problem_; }
  const YAML::Mark& problemAt() const { return problem_at_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(m, anchor);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (!problem_.empty()) return;
    const auto it = sizes_.find(anchor);
    if (it == sizes_.end()) {
      stop(m, "an alias refers to the anchor it is inside of (a cycle)");
      return;
    }
    add(m, it->second);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    size_t total_before;
  };

  void leaf(const YAML::Mark& m, YAML::anchor_t anchor) {
    add(m, 1);
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    open_.push_back({anchor, total_});
    add(m, 1);
  }
  void close() {
    const Open o = open_.back();
    open_.pop_back();
    if (o.anchor != YAML::NullAnchor) sizes_[o.anchor] = total_ - o.total_before;
  }
  void add(const YAML::Mark& m, size_t n) {
    if (!problem_.empty()) return;
    total_ += n;
    if (total_ > limit_)
      stop(m, "the document expands to more than " + std::to_string(limit_) +
                  " nodes through its aliases (anchors repeated inside anchors?)");
  }
  void stop(const YAML::Mark& m, std::string why) {
    problem_ = std::move(why);
    problem_at_ = m;
  }

  const size_t limit_;
  size_t total_ = 0;
  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, size_t> sizes_;
  std::string problem_;
  YAML::Mark problem_at_;
};

}  // namespace

bool checkExpandedSize(std::string_view text, ParseContext& ctx, size_t limit) {
  if (text.find('&') == std::string_view::npos) return true;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  ExpandedSizeCounter counter(limit);
  // The first document only: the one the loader took (it refuses others).
  parser.HandleNextDocument(counter);
  if (counter.problem().empty()) return true;
  ctx.error(SourceLoc{counter.problemAt().line + 1, counter.problemAt().column + 1}, "", counter.problem());
  return false;
}

}  // namespace sluice::config
