// Strict configuration of one dtlstransportbin (issue 9 items 2 and 3): a configured identity that
// cannot be used stops NULL→READY with an ERROR instead of being replaced by a generated one;
// unusable values are refused with a message that echoes at most a bounded part of them; warnings
// given before the element has a bus reach the bus at NULL→READY. Real element, real files, no
// network beyond the ICE agent gathering on loopback.
#include <arpa/inet.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

struct Posted {
  GstMessageType type;
  std::string text;
};

// A pipeline holding one dtlstransportbin, gathering on loopback only.
class OneBin {
 public:
  OneBin() : OneBin(make_bin()) {}
  explicit OneBin(GstElement* bin) : bin_(bin) {
    pipeline_ = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(pipeline_), bin_);
  }
  ~OneBin() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  static GstElement* make_bin() {
    GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
    EXPECT_NE(bin, nullptr) << "dtlstransportbin not found (GST_PLUGIN_PATH?)";
    g_object_set(bin, "local-addresses", "127.0.0.1", nullptr);
    return bin;
  }
  GstElement* bin() { return bin_; }
  GstStateChangeReturn to_ready() { return gst_element_set_state(pipeline_, GST_STATE_READY); }
  // The errors and warnings posted so far, oldest first.
  std::vector<Posted> messages() {
    GstBus* bus = gst_element_get_bus(pipeline_);
    while (GstMessage* message = gst_bus_pop_filtered(
               bus, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
      GError* error = nullptr;
      gchar* debug = nullptr;
      if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
      else
        gst_message_parse_warning(message, &error, &debug);
      posted_.push_back({GST_MESSAGE_TYPE(message), error ? error->message : ""});
      g_clear_error(&error);
      g_free(debug);
      gst_message_unref(message);
    }
    gst_object_unref(bus);
    return posted_;
  }
  bool posted(GstMessageType type, const std::string& part) {
    for (const auto& message : messages())
      if (message.type == type && message.text.find(part) != std::string::npos) return true;
    return false;
  }
  std::string describe() {
    std::string out;
    for (const auto& message : messages())
      out += std::string("\n  ") + (message.type == GST_MESSAGE_ERROR ? "ERROR " : "WARNING ") +
             message.text.substr(0, 300);
    return out.empty() ? " (no message)" : out;
  }
  std::string string_property(const char* name) {
    gchar* value = nullptr;
    g_object_get(bin_, name, &value, nullptr);
    std::string out = value ? value : "";
    g_free(value);
    return out;
  }

 private:
  GstElement* pipeline_;
  GstElement* bin_;
  std::vector<Posted> posted_;
};

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/dtlstransport-config-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A valid certificate and key in PEM, as another bin generated it.
std::string generated_identity_pem() {
  OneBin other;
  EXPECT_EQ(other.to_ready(), GST_STATE_CHANGE_SUCCESS);
  return other.string_property("local-certificate");  // certificate only, no key
}

// --- Item 2: a configured identity is never replaced silently --------------------------------

TEST(ElementConfig, MissingCertificateFileStopsNullToReadyWithAnError) {
  OneBin one;
  g_object_set(one.bin(), "certificate-file", "/nonexistent-dir/identity.pem", nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_FAILURE);
  EXPECT_TRUE(one.posted(GST_MESSAGE_ERROR,
                         "certificate-file rejected: cannot open '/nonexistent-dir/identity.pem': "
                         "No such file or directory"))
      << one.describe();
  EXPECT_EQ(one.string_property("local-fingerprint"), "") << "a certificate was generated instead";
}

TEST(ElementConfig, CertificateWithoutItsKeyStopsNullToReadyWithAnError) {
  const std::string certificate_only = generated_identity_pem();
  ASSERT_FALSE(certificate_only.empty());
  OneBin one;
  g_object_set(one.bin(), "certificate", certificate_only.c_str(), nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_FAILURE);
  EXPECT_TRUE(one.posted(GST_MESSAGE_ERROR, "certificate rejected: ")) << one.describe();
  EXPECT_EQ(one.string_property("local-fingerprint"), "");
}

TEST(ElementConfig, DevZeroIsRefusedWithoutReadingIt) {
  // Used to read /dev/zero until std::bad_alloc aborted the process.
  OneBin one;
  g_object_set(one.bin(), "certificate-file", "/dev/zero", nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_FAILURE);
  EXPECT_TRUE(
      one.posted(GST_MESSAGE_ERROR, "certificate-file rejected: '/dev/zero' is not a regular file"))
      << one.describe();
}

TEST(ElementConfig, PemFileOverOneMebibyteIsRefused) {
  TempFile big(std::string((1 << 20) + 1, 'x'));
  OneBin one;
  g_object_set(one.bin(), "certificate-file", big.path().c_str(), nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_FAILURE);
  EXPECT_TRUE(one.posted(GST_MESSAGE_ERROR, "is larger than the limit of 1 MiB")) << one.describe();
}

TEST(ElementConfig, WithdrawingTheRejectedValueLetsTheElementGenerateItsOwn) {
  OneBin one;
  g_object_set(one.bin(), "certificate-file", "/nonexistent-dir/identity.pem", nullptr);
  g_object_set(one.bin(), "certificate-file", "", nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_SUCCESS) << one.describe();
  EXPECT_NE(one.string_property("local-fingerprint"), "");
}

TEST(ElementConfig, RejectedCertificateInALaunchLineFailsOnTheBus) {
  // gst-launch-1.0 sets properties before the element has a bus: the refusal went to stderr
  // only and the element started with a generated certificate.
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "dtlstransportbin certificate-file=/dev/zero local-addresses=127.0.0.1", &error);
  ASSERT_NE(pipeline, nullptr) << (error ? error->message : "");
  g_clear_error(&error);
  if (!GST_IS_PIPELINE(pipeline)) {  // one element: gst-launch-1.0 puts it in a pipeline
    GstElement* element = pipeline;
    pipeline = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(pipeline), element);
  }
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  bool error_seen = false, warning_seen = false;
  while (GstMessage* message = gst_bus_pop(bus)) {
    GError* e = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
      gst_message_parse_error(message, &e, nullptr);
      error_seen |=
          std::string(e->message).find("'/dev/zero' is not a regular file") != std::string::npos;
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning(message, &e, nullptr);
      warning_seen |=
          std::string(e->message).find("certificate-file rejected") != std::string::npos;
    }
    g_clear_error(&e);
    gst_message_unref(message);
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  EXPECT_TRUE(error_seen) << "no ERROR naming the file";
  EXPECT_TRUE(warning_seen) << "the warning given without a bus was not re-posted";
}

// --- Item 3: strict, visible configuration --------------------------------------------------

TEST(ElementConfig, MinPortAboveMaxPortStopsNullToReady) {
  OneBin one;
  g_object_set(one.bin(), "min-port", 6000u, "max-port", 5000u, nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_FAILURE);
  EXPECT_TRUE(one.posted(GST_MESSAGE_ERROR, "min-port 6000 is above max-port 5000"))
      << one.describe();
}

TEST(ElementConfig, PortsSetInEitherOrderAreCheckedTogether) {
  OneBin one;
  g_object_set(one.bin(), "max-port", 5000u, nullptr);
  g_object_set(one.bin(), "min-port", 6000u, nullptr);  // not refused yet: max-port follows
  g_object_set(one.bin(), "max-port", 6010u, nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_SUCCESS) << one.describe();
  EXPECT_FALSE(one.posted(GST_MESSAGE_WARNING, "port")) << one.describe();
}

GstCaps* pt_map(OneBin& one) {
  GstCaps* caps = nullptr;
  g_object_get(one.bin(), "pt-map", &caps, nullptr);
  return caps;
}

TEST(ElementConfig, BadPtMapsAreRefusedAndTheOldOneKept) {
  OneBin one;
  GstCaps* good = gst_caps_from_string(
      "application/x-rtp, payload=(int)96, encoding-name=VP8, clock-rate=90000, media=video");
  g_object_set(one.bin(), "pt-map", good, nullptr);
  struct Case {
    const char* caps;
    const char* says;
  };
  for (const Case& bad : {
           Case{"junk", "pt-map rejected: structure 1 (junk) is not application/x-rtp"},
           Case{"application/x-rtp, clock-rate=(int)90000",
                "pt-map rejected: structure 1 (application/x-rtp) has no integer 'payload' field"},
           Case{"application/x-rtp, payload=(int)96; application/x-rtp, payload=(int)300",
                "pt-map rejected: structure 2 (application/x-rtp): payload 300 is not an RTP "
                "payload type (0-127)"},
           Case{"application/x-rtp, payload=(string)ninety-six", "has no integer 'payload'"},
       }) {
    GstCaps* caps = gst_caps_from_string(bad.caps);
    ASSERT_NE(caps, nullptr) << bad.caps;
    g_object_set(one.bin(), "pt-map", caps, nullptr);
    gst_caps_unref(caps);
    EXPECT_TRUE(one.posted(GST_MESSAGE_WARNING, bad.says)) << bad.caps << one.describe();
    GstCaps* now = pt_map(one);
    EXPECT_TRUE(now && gst_caps_is_equal(now, good)) << bad.caps << ": the old map was replaced";
    if (now) gst_caps_unref(now);
  }
  gst_caps_unref(good);
}

TEST(ElementConfig, RemoteIceCredentialsOutsideRfc8839AreRefused) {
  OneBin one;
  const std::string pwd = "abcdefghijklmnopqrstuv";  // 22 ice-chars: the shortest allowed
  g_object_set(one.bin(), "remote-ice-ufrag", "abcd", "remote-ice-pwd", pwd.c_str(), nullptr);
  for (const char* bad : {"x", "abcdefghijklmnopqrstu", "abcdefghijklmnopqrstu!"}) {
    g_object_set(one.bin(), "remote-ice-pwd", bad, nullptr);
    EXPECT_TRUE(one.posted(GST_MESSAGE_WARNING, "remote-ice-pwd rejected: needs 22 to 256"))
        << bad << one.describe();
    EXPECT_EQ(one.string_property("remote-ice-pwd"), pwd) << bad;
  }
  g_object_set(one.bin(), "remote-ice-ufrag", "abc", nullptr);
  EXPECT_TRUE(one.posted(GST_MESSAGE_WARNING, "remote-ice-ufrag rejected: needs 4 to 256"))
      << one.describe();
  EXPECT_EQ(one.string_property("remote-ice-ufrag"), "abcd");
}

TEST(ElementConfig, AHugeBadValueIsNotEchoedWhole) {
  OneBin one;
  const std::string huge = "sha-256 " + std::string(1 << 20, 'Z');
  g_object_set(one.bin(), "remote-fingerprints", huge.c_str(), nullptr);
  bool found = false;
  for (const auto& message : one.messages()) {
    if (message.text.find("remote-fingerprints rejected") == std::string::npos) continue;
    found = true;
    EXPECT_LT(message.text.size(), 1100u);
    EXPECT_NE(message.text.find("(1048584 bytes)"), std::string::npos) << message.text;
  }
  EXPECT_TRUE(found) << one.describe();
}

TEST(ElementConfig, WarningsGivenWithoutABusAreRepostedAtNullToReady) {
  GstElement* bin = OneBin::make_bin();
  gst_object_ref_sink(bin);
  g_object_set(bin, "remote-ice-pwd", "x", nullptr);  // no bus yet: g_warning only
  OneBin one(bin);
  gst_object_unref(bin);
  EXPECT_FALSE(one.posted(GST_MESSAGE_WARNING, "remote-ice-pwd rejected"));
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_SUCCESS) << one.describe();
  EXPECT_TRUE(one.posted(GST_MESSAGE_WARNING, "remote-ice-pwd rejected")) << one.describe();
}

TEST(ElementConfig, ATakenFixedPortEndsGatheringWithAWarning) {
  // Another socket holds the port first.
  const int taken = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const guint port = ntohs(address.sin_port);

  OneBin one;
  g_object_set(one.bin(), "min-port", port, "max-port", port, nullptr);
  EXPECT_EQ(one.to_ready(), GST_STATE_CHANGE_SUCCESS) << one.describe();
  // Gathering ends (bounded wait: libnice gathers host candidates at once).
  std::string state;
  for (int i = 0; i < 50; ++i) {
    gint value = 0;
    g_object_get(one.bin(), "ice-gathering-state", &value, nullptr);
    GEnumValue* named = g_enum_get_value(
        G_ENUM_CLASS(g_type_class_peek(G_PARAM_SPEC_VALUE_TYPE(
            g_object_class_find_property(G_OBJECT_GET_CLASS(one.bin()), "ice-gathering-state")))),
        value);
    state = named ? named->value_nick : "?";
    if (state == "complete") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  close(taken);
  EXPECT_EQ(state, "complete") << one.describe();
  EXPECT_TRUE(one.posted(GST_MESSAGE_WARNING, "ICE gathering ended without a candidate"))
      << one.describe();
}

}  // namespace
