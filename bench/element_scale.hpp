// Figure 5 of bench_element (element_scale.cpp).
#pragma once

namespace elementbench {

// The child of one N: builds N pairs in this process and prints its `scale` result line.
int scale_child(int pairs, bool webrtc, bool quick);
// The figure: one child per N (self = this binary's path), rows on standard output.
bool figure_scale(const char* self, bool quick);

}  // namespace elementbench
