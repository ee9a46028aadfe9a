// What to tell the peer, visible without an application (issue 9 item 4): the element message
// `dtlstransport-local-parameters` at NULL→READY, on each local candidate and at gathering done
// (what `gst-launch-1.0 -m` prints), and a text form for the GStrv local-candidates (what
// `gst-launch-1.0 -v` prints). Real element, real libnice gathering on loopback.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "one_bin.h"

namespace {

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

constexpr GstClockTime kWait = 10 * GST_SECOND;

struct Parameters {
  std::string ufrag, pwd, fingerprint, candidates;
  bool complete = false;
};

std::string string_property(GstElement* bin, const char* name) {
  gchar* value = nullptr;
  g_object_get(bin, name, &value, nullptr);
  std::string out = value ? value : "";
  g_free(value);
  return out;
}

std::vector<std::string> local_candidates(GstElement* bin) {
  GStrv lines = nullptr;
  g_object_get(bin, "local-candidates", &lines, nullptr);
  std::vector<std::string> out;
  for (GStrv line = lines; line && *line; ++line) out.emplace_back(*line);
  g_strfreev(lines);
  return out;
}

std::string joined(const std::vector<std::string>& lines, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? ";" : "") + lines[i];
  return out;
}

// A pipeline with one dtlstransportbin gathering on loopback, taken to READY; the
// dtlstransport-local-parameters messages up to the one saying gathering is complete.
class OneBin : public LoopbackBin {
 public:
  bool to_ready() {
    return gst_element_set_state(pipeline(), GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS;
  }
  // Bounded: stops at the message with gathering-complete=true or after kWait.
  std::vector<Parameters> messages_until_complete() {
    std::vector<Parameters> out;
    GstBus* bus = gst_element_get_bus(pipeline());
    const GstClockTime deadline = gst_util_get_timestamp() + kWait;
    while (out.empty() || !out.back().complete) {
      const GstClockTime now = gst_util_get_timestamp();
      if (now >= deadline) break;
      GstMessage* message = gst_bus_timed_pop_filtered(bus, deadline - now, GST_MESSAGE_ELEMENT);
      if (!message) break;
      const GstStructure* s = gst_message_get_structure(message);
      if (gst_structure_has_name(s, "dtlstransport-local-parameters")) {
        Parameters p;
        for (auto [field, target] : {std::pair{"ufrag", &p.ufrag},
                                     {"pwd", &p.pwd},
                                     {"fingerprint", &p.fingerprint},
                                     {"candidates", &p.candidates}}) {
          const gchar* value = gst_structure_get_string(s, field);
          EXPECT_NE(value, nullptr) << "no string field " << field;
          *target = value ? value : "";
        }
        gboolean complete = FALSE;
        EXPECT_TRUE(gst_structure_get_boolean(s, "gathering-complete", &complete));
        p.complete = complete;
        out.push_back(p);
      }
      gst_message_unref(message);
    }
    gst_object_unref(bus);
    return out;
  }
};

TEST(LocalParameters, PostedAtReadyOnEachCandidateAndAtGatheringDone) {
  OneBin one;
  ASSERT_TRUE(one.to_ready());
  const std::vector<Parameters> messages = one.messages_until_complete();
  ASSERT_FALSE(messages.empty()) << "no dtlstransport-local-parameters message at READY";
  ASSERT_TRUE(messages.back().complete) << "no message with gathering-complete=true";

  const std::vector<std::string> candidates = local_candidates(one.bin());
  ASSERT_FALSE(candidates.empty());
  // READY (no candidate yet), one per candidate, then gathering done.
  ASSERT_EQ(messages.size(), candidates.size() + 2);
  const std::string ufrag = string_property(one.bin(), "local-ice-ufrag");
  const std::string pwd = string_property(one.bin(), "local-ice-pwd");
  const std::string fingerprint = string_property(one.bin(), "local-fingerprint");
  ASSERT_EQ(fingerprint.rfind("sha-256 ", 0), 0u) << fingerprint;
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    EXPECT_EQ(messages[i].ufrag, ufrag);
    EXPECT_EQ(messages[i].pwd, pwd);
    EXPECT_EQ(messages[i].fingerprint, fingerprint);
    // The candidates so far, as remote-candidates takes them.
    EXPECT_EQ(messages[i].candidates, joined(candidates, std::min(i, candidates.size())));
    EXPECT_EQ(messages[i].complete, i + 1 == messages.size());
  }
}

// gst-launch-1.0 -v prints properties with gst_value_serialize: GStreamer 1.22 has none for
// GStrv and printed "local-candidates = (null)".
TEST(LocalParameters, LocalCandidatesHaveATextFormThatReadsBack) {
  OneBin one;
  ASSERT_TRUE(one.to_ready());
  ASSERT_FALSE(one.messages_until_complete().empty());
  const std::vector<std::string> candidates = local_candidates(one.bin());
  ASSERT_FALSE(candidates.empty());

  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_STRV);
  g_object_get_property(G_OBJECT(one.bin()), "local-candidates", &value);
  gchar* text = gst_value_serialize(&value);
  ASSERT_NE(text, nullptr) << "local-candidates has no text form";
  GValue back = G_VALUE_INIT;
  g_value_init(&back, G_TYPE_STRV);
  ASSERT_TRUE(gst_value_deserialize(&back, text)) << text;
  std::vector<std::string> read_back;
  for (auto line = static_cast<const gchar* const*>(g_value_get_boxed(&back)); line && *line;
       ++line)
    read_back.emplace_back(*line);
  EXPECT_EQ(read_back, candidates) << text;
  g_free(text);
  g_value_unset(&back);
  g_value_unset(&value);
}

}  // namespace
