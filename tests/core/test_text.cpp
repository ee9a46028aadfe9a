// The one definition of white space and of separated lists (property values, SDP attributes).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text.hpp"

namespace dtlstransport {
namespace {

TEST(Text, TrimRemovesSpaceTabCrLfOnBothSides) {
  EXPECT_EQ(trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim(""), "");
}

TEST(Text, SplitTrimsItemsAndDropsEmptyOnes) {
  EXPECT_EQ(split_list(" 10.0.0.1 ,,10.0.0.2, ", ','),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(split_list("a  b", ' '), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_list("", ',').empty());
  EXPECT_TRUE(split_list(" , ", ',').empty());
}

TEST(Text, JoinPutsTheSeparatorBetweenItems) {
  EXPECT_EQ(join_list({"a", "b", "c"}, ";"), "a;b;c");
  EXPECT_EQ(join_list({"a"}, ", "), "a");
  EXPECT_EQ(join_list({}, ";"), "");
}

TEST(Text, AbbreviateKeepsShortTextAndCutsLongTextAtACharacter) {
  EXPECT_EQ(abbreviate("short"), "short");
  EXPECT_EQ(abbreviate(std::string(kEchoLimit, 'x')), std::string(kEchoLimit, 'x'));
  EXPECT_EQ(abbreviate(std::string(1 << 20, 'x')),
            std::string(kEchoLimit, 'x') + "\u2026 (1048576 bytes)");
  // "é" is two bytes: a cut inside it moves back before it.
  EXPECT_EQ(abbreviate("ab\u00e9cd", 3), "ab\u2026 (6 bytes)");
}

TEST(Text, TrimKeepsInnerWhiteSpaceAndReturnsAView) {
  const std::string text = "  sha-256 AB:CD\t";
  const std::string_view trimmed = trim(text);
  EXPECT_EQ(trimmed, "sha-256 AB:CD");
  EXPECT_EQ(trimmed.data(), text.data() + 2);  // no copy
}

}  // namespace
}  // namespace dtlstransport
