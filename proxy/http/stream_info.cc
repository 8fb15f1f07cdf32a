#include "proxy/http/stream_info.h"

#include <string_view>

namespace sluice::http {
namespace {

// Indexed by bit position of ResponseFlag.
constexpr std::string_view kFlagCodes[] = {"NR", "NC",  "UH",  "UF", "UT", "UC", "UPE", "UO",
                                           "DC", "DPE", "RHT", "SI", "FI", "DI", "LR", "RL",
                                           "URX", "UPT", "DT", "AZ", "OL"};

}  // namespace

std::string responseFlagsString(uint32_t flags) {
  std::string out;
  for (size_t bit = 0; bit < std::size(kFlagCodes); ++bit) {
    if (!(flags & (1u << bit))) continue;
    if (!out.empty()) out.push_back(',');
    out.append(kFlagCodes[bit]);
  }
  if (out.empty()) return "-";  // also for bits we have no code for
  return out;
}

}  // namespace sluice::http
