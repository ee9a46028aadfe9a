// Shared bits of the bench binaries: the row format bench/run collects, and small statistics.
//
// Every result is one line on standard output:
//   row <TAB> figure <TAB> what <TAB> ours <TAB> anchor <TAB> unit <TAB> ratio <TAB> better
// where ratio is ours/anchor ("-" when there is no anchor) and better says which way of the ratio
// is good ("lower" for costs, "higher" for rates). Anything else a binary prints is commentary.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace bench {

enum class Better { Lower, Higher };

inline void print_row(const std::string& figure, const std::string& what, double ours,
                      double anchor, const std::string& unit, Better better, int decimals = 3) {
  std::string ratio = "-";
  if (anchor > 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", ours / anchor);
    ratio = text;
  }
  std::string anchor_text = "-";
  if (anchor >= 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, anchor);
    anchor_text = text;
  }
  std::printf("row\t%s\t%s\t%.*f\t%s\t%s\t%s\t%s\n", figure.c_str(), what.c_str(), decimals, ours,
              anchor_text.c_str(), unit.c_str(), ratio.c_str(),
              better == Better::Lower ? "lower" : "higher");
  std::fflush(stdout);
}

inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Nearest-rank percentile, p in [0, 100].
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(values.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

inline bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread, in seconds. Costs are measured in CPU time, not wall time: the
// machine is shared, and time spent preempted by a neighbour is not our cost. (`openssl speed`
// also reports user CPU time by default.)
inline double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace bench
