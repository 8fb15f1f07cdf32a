#include "config/path_normalization.h"

namespace sluice::config {

std::optional<EscapedSlashes> parseEscapedSlashes(std::string_view name) {
  if (name == "reject") return EscapedSlashes::Reject;
  if (name == "keep") return EscapedSlashes::Keep;
  if (name == "unescape_and_redirect") return EscapedSlashes::UnescapeAndRedirect;
  if (name == "unescape_and_forward") return EscapedSlashes::UnescapeAndForward;
  return std::nullopt;
}

std::string_view escapedSlashesName(EscapedSlashes action) {
  switch (action) {
    case EscapedSlashes::Reject: return "reject";
    case EscapedSlashes::Keep: return "keep";
    case EscapedSlashes::UnescapeAndRedirect: return "unescape_and_redirect";
    case EscapedSlashes::UnescapeAndForward: return "unescape_and_forward";
  }
  return "reject";
}

}  // namespace sluice::config
