// The identity's life in one dtlstransportbin (issue 9 item 1): a configured certificate outside
// its validity period stops NULL→READY with an ERROR naming the limit and its UTC date; a
// generated certificate's expiry is announced (element message, signal, WARNING at expiry) and it
// is renewed at the next NULL→READY. Certificates made by the openssl command-line tool and by
// the core's generator; real element, real clock.
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "certificate.hpp"

namespace {

namespace dt = dtlstransport;
using namespace std::chrono_literals;

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

// A pipeline holding one dtlstransportbin gathering on loopback; records what its bus carries.
class OneBin {
 public:
  OneBin() {
    bin_ = gst_element_factory_make("dtlstransportbin", nullptr);
    EXPECT_NE(bin_, nullptr) << "dtlstransportbin not found (GST_PLUGIN_PATH?)";
    g_object_set(bin_, "local-addresses", "127.0.0.1", nullptr);
    pipeline_ = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(pipeline_), bin_);
  }
  ~OneBin() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  GstElement* bin() { return bin_; }
  GstStateChangeReturn set_state(GstState state) { return gst_element_set_state(pipeline_, state); }
  // Waits up to `timeout` for a message of `type` whose text or structure contains `part`.
  bool wait_for(GstMessageType type, const std::string& part, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    GstBus* bus = gst_element_get_bus(pipeline_);
    bool found = seen(type, part);
    while (!found) {
      // What is on the bus already is always read; then wait while time is left.
      const bool time_left = std::chrono::steady_clock::now() < end;
      GstMessage* message = gst_bus_timed_pop(bus, time_left ? 200 * GST_MSECOND : 0);
      if (!message) {
        if (!time_left) break;
        continue;
      }
      record(message);
      gst_message_unref(message);
      found = seen(type, part);
    }
    gst_object_unref(bus);
    return found;
  }
  size_t count(GstMessageType type, const std::string& part) {
    wait_for(GST_MESSAGE_UNKNOWN, "", 0s);
    size_t n = 0;
    for (const auto& [t, text] : messages_)
      if (t == type && text.find(part) != std::string::npos) ++n;
    return n;
  }
  std::string describe() const {
    std::string out;
    for (const auto& [type, text] : messages_)
      out += std::string("\n  ") + gst_message_type_get_name(type) + " " + text.substr(0, 300);
    return out.empty() ? " (no message)" : out;
  }
  std::string string_property(const char* name) {
    gchar* value = nullptr;
    g_object_get(bin_, name, &value, nullptr);
    std::string out = value ? value : "";
    g_free(value);
    return out;
  }
  gint64 expires() {
    gint64 value = 0;
    g_object_get(bin_, "certificate-expires", &value, nullptr);
    return value;
  }

 private:
  bool seen(GstMessageType type, const std::string& part) const {
    for (const auto& [t, text] : messages_)
      if (t == type && text.find(part) != std::string::npos) return true;
    return false;
  }
  void record(GstMessage* message) {
    const GstMessageType type = GST_MESSAGE_TYPE(message);
    GError* error = nullptr;
    gchar* debug = nullptr;
    std::string text;
    if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
      else
        gst_message_parse_warning(message, &error, &debug);
      text = error ? error->message : "";
      g_clear_error(&error);
      g_free(debug);
    } else if (type == GST_MESSAGE_ELEMENT) {
      gchar* serialized = gst_structure_to_string(gst_message_get_structure(message));
      text = serialized;
      g_free(serialized);
    } else {
      return;
    }
    messages_.emplace_back(type, text);
  }

  GstElement* pipeline_;
  GstElement* bin_;
  std::vector<std::pair<GstMessageType, std::string>> messages_;
};

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/dtlstransport-cert-XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; fails the test when it does not succeed.
void run(const std::string& command) {
  ASSERT_EQ(std::system(("(" + command + ") >/dev/null 2>&1").c_str()), 0) << command;
}

// --- A configured certificate outside its validity period ------------------------------------

// openssl x509 -days -1 re-signs with notAfter one day before notBefore (= now): expired.
TEST(ElementCertificate, ExpiredCertificateFileStopsNullToReadyNamingTheDate) {
  TempDir dir;
  const std::string key = dir.file("key.pem"), fresh = dir.file("fresh.pem"),
                    expired = dir.file("expired.pem"), both = dir.file("identity.pem");
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=expired"
      " -days 1 -keyout " +
      key + " -out " + fresh);
  run("openssl x509 -in " + fresh + " -key " + key + " -days -1 -out " + expired);
  run("cat " + expired + " " + key + " > " + both);
  auto loaded = dt::Certificate::from_file(both);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_LT(loaded->not_after(), std::chrono::system_clock::now());

  OneBin one;
  g_object_set(one.bin(), "certificate-file", both.c_str(), nullptr);
  EXPECT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  const std::string expected = "the configured DTLS certificate (certificate-file) is expired on " +
                               dt::utc_text(loaded->not_after());
  EXPECT_TRUE(one.wait_for(GST_MESSAGE_ERROR, expected, 0s)) << expected << one.describe();
}

// The core's generator takes a start date; the PEM goes in through the `certificate` property.
TEST(ElementCertificate, NotYetValidCertificateStopsNullToReadyNamingTheDate) {
  dt::CertificateOptions options;
  options.not_before = std::chrono::system_clock::now() + 24h;
  options.lifetime = 48h;
  auto future = dt::Certificate::generate(options);
  ASSERT_TRUE(future) << future.error().message;
  const std::string pem = future->certificate_pem() + future->private_key_pem();

  OneBin one;
  g_object_set(one.bin(), "certificate", pem.c_str(), nullptr);
  EXPECT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  const std::string expected =
      "the configured DTLS certificate (certificate) is not valid before " +
      dt::utc_text(future->not_before());
  EXPECT_TRUE(one.wait_for(GST_MESSAGE_ERROR, expected, 0s)) << expected << one.describe();
}

TEST(ElementCertificate, ValidCertificateFromOpensslStartsAndReportsItsExpiry) {
  TempDir dir;
  const std::string key = dir.file("key.pem"), cert = dir.file("cert.pem"),
                    both = dir.file("identity.pem");
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=valid"
      " -days 2 -keyout " +
      key + " -out " + cert);
  run("cat " + cert + " " + key + " > " + both);
  auto loaded = dt::Certificate::from_file(both);
  ASSERT_TRUE(loaded) << loaded.error().message;

  OneBin one;
  g_object_set(one.bin(), "certificate-file", both.c_str(), nullptr);
  EXPECT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_SUCCESS) << one.describe();
  EXPECT_EQ(one.expires(), std::chrono::system_clock::to_time_t(loaded->not_after()));
}

// --- Expiry announced, generated certificate renewed ------------------------------------------

struct Counts {
  std::atomic<int> expiring{0};
  std::atomic<gint64> seconds_left{-1000};
  std::atomic<int> fingerprint_notified{0};
  std::atomic<int> expires_notified{0};
};

void watch(GstElement* bin, Counts* counts) {
  g_signal_connect(bin, "certificate-expiring",
                   G_CALLBACK(+[](GstElement*, const gchar*, gint64, gint64 left, Counts* c) {
                     c->seconds_left = left;
                     ++c->expiring;
                   }),
                   counts);
  g_signal_connect(bin, "notify::local-fingerprint",
                   G_CALLBACK(+[](GObject*, GParamSpec*, Counts* c) { ++c->fingerprint_notified; }),
                   counts);
  g_signal_connect(bin, "notify::certificate-expires",
                   G_CALLBACK(+[](GObject*, GParamSpec*, Counts* c) { ++c->expires_notified; }),
                   counts);
}

// A configured certificate with 5 s left of a 105 s life: the margin (7 days, capped to a tenth
// of the life: 10 s) is entered at once, so READY announces it; at notAfter a WARNING follows.
TEST(ElementCertificate, ConfiguredCertificateExpiringIsAnnouncedOnceThenWarnedAtExpiry) {
  const auto now = std::chrono::system_clock::now();
  dt::CertificateOptions options;
  options.not_before = now - 100s;
  options.lifetime = 5s;
  auto short_lived = dt::Certificate::generate(options);
  ASSERT_TRUE(short_lived) << short_lived.error().message;
  const std::string pem = short_lived->certificate_pem() + short_lived->private_key_pem();
  const std::string fingerprint = short_lived->fingerprint().to_string();
  const gint64 not_after = std::chrono::system_clock::to_time_t(short_lived->not_after());

  OneBin one;
  Counts counts;
  watch(one.bin(), &counts);
  g_object_set(one.bin(), "certificate", pem.c_str(), nullptr);
  ASSERT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_SUCCESS) << one.describe();
  EXPECT_EQ(one.expires(), not_after);
  EXPECT_GE(counts.expires_notified.load(), 1);
  ASSERT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, "dtlstransport-certificate-expiring", 10s))
      << one.describe();
  // The serialized structure escapes the space after "sha-256": look for the hex digits.
  EXPECT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, fingerprint.substr(fingerprint.find(' ') + 1), 0s))
      << one.describe();
  EXPECT_TRUE(
      one.wait_for(GST_MESSAGE_ELEMENT, "not-after=(gint64)" + std::to_string(not_after), 0s))
      << one.describe();
  EXPECT_EQ(counts.expiring.load(), 1);
  EXPECT_GT(counts.seconds_left.load(), 0);
  EXPECT_LE(counts.seconds_left.load(), 10);
  ASSERT_TRUE(one.wait_for(
      GST_MESSAGE_WARNING,
      "the DTLS certificate expired on " + dt::utc_text(short_lived->not_after()), 20s))
      << one.describe();
  // Once each: wait a little longer and count again.
  one.wait_for(GST_MESSAGE_UNKNOWN, "none", 2s);
  EXPECT_EQ(counts.expiring.load(), 1);
  EXPECT_EQ(one.count(GST_MESSAGE_ELEMENT, "dtlstransport-certificate-expiring"), 1u);
  EXPECT_EQ(one.count(GST_MESSAGE_WARNING, "the DTLS certificate expired on"), 1u);
}

// certificate-lifetime=20: the margin is capped to 2 s, so the announcement comes late in the
// life (not at READY); after expiry the next NULL→READY generates a new certificate and says so.
TEST(ElementCertificate, ShortLivedGeneratedCertificateIsAnnouncedWarnedAndRenewed) {
  OneBin one;
  Counts counts;
  watch(one.bin(), &counts);
  g_object_set(one.bin(), "certificate-lifetime", 20u, "certificate-expiry-warning", 30u, nullptr);
  ASSERT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_SUCCESS) << one.describe();
  const std::string first = one.string_property("local-fingerprint");
  const gint64 first_expires = one.expires();
  EXPECT_NEAR(static_cast<double>(first_expires),
              static_cast<double>(
                  std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + 20s)),
              5);
  EXPECT_EQ(counts.expiring.load(), 0) << "announced before the (capped) margin";
  ASSERT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, "dtlstransport-certificate-expiring", 30s))
      << one.describe();
  EXPECT_EQ(counts.expiring.load(), 1);
  EXPECT_LE(counts.seconds_left.load(), 2) << "the margin is a tenth of the 20 s life";
  EXPECT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, first.substr(first.find(' ') + 1), 0s))
      << one.describe();
  ASSERT_TRUE(one.wait_for(GST_MESSAGE_WARNING, "the DTLS certificate expired on", 20s))
      << one.describe();

  ASSERT_EQ(one.set_state(GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  const int fingerprint_notified = counts.fingerprint_notified;
  const int expires_notified = counts.expires_notified;
  ASSERT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_SUCCESS) << one.describe();
  const std::string second = one.string_property("local-fingerprint");
  EXPECT_NE(second, first) << "the expired certificate was used again";
  EXPECT_GT(one.expires(), first_expires);
  EXPECT_GT(counts.fingerprint_notified.load(), fingerprint_notified);
  EXPECT_GT(counts.expires_notified.load(), expires_notified);
  EXPECT_EQ(one.count(GST_MESSAGE_ERROR, ""), 0u) << one.describe();
}

}  // namespace

// --- Rotation: a certificate set while running ------------------------------------------------

namespace {

// The dtlstransport-certificate-expiring message about `certificate`, as serialized (the space
// after "sha-256" is escaped).
std::string expiring_about(const dt::Certificate& certificate) {
  const std::string fingerprint = certificate.fingerprint().to_string();
  return "dtlstransport-certificate-expiring, fingerprint=(string)\"sha-256\\ " +
         fingerprint.substr(fingerprint.find(' ') + 1) + "\"";
}

}  // namespace

// Both identity properties say they may be set in any state (gst-inspect prints the flag).
TEST(ElementCertificate, IdentityPropertiesAreMutableWhilePlaying) {
  GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
  ASSERT_NE(bin, nullptr);
  for (const char* name : {"certificate", "certificate-file"}) {
    GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(bin), name);
    ASSERT_NE(pspec, nullptr) << name;
    EXPECT_TRUE(pspec->flags & GST_PARAM_MUTABLE_PLAYING) << name;
  }
  gst_object_unref(gst_object_ref_sink(bin));
}

// READY with a certificate whose expiry is announced at once (3 s left of a 103 s life), then a
// rotation to another one (15 s left of a 215 s life: inside its margin too). The new one is
// notified at once and announced in its turn; an expired one is refused and the identity in use
// stays; at the old certificate's notAfter nothing is said about it.
TEST(ElementCertificate, RotationInReadyMovesTheExpiryWatchToTheNewCertificate) {
  const auto now = std::chrono::system_clock::now();
  dt::CertificateOptions first_options;
  first_options.not_before = now - 100s;
  first_options.lifetime = 3s;
  auto first = dt::Certificate::generate(first_options);
  ASSERT_TRUE(first) << first.error().message;
  dt::CertificateOptions second_options;
  second_options.not_before = now - 200s;
  second_options.lifetime = 15s;
  auto second = dt::Certificate::generate(second_options);
  ASSERT_TRUE(second) << second.error().message;
  TempDir dir;
  const std::string key = dir.file("key.pem"), fresh = dir.file("fresh.pem"),
                    expired = dir.file("expired.pem");
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=expired"
      " -days 1 -keyout " +
      key + " -out " + fresh);
  run("openssl x509 -in " + fresh + " -key " + key + " -days -1 -out " + expired);
  run("cat " + key + " >> " + expired);

  OneBin one;
  Counts counts;
  watch(one.bin(), &counts);
  const std::string first_pem = first->certificate_pem() + first->private_key_pem();
  g_object_set(one.bin(), "certificate", first_pem.c_str(), nullptr);
  ASSERT_EQ(one.set_state(GST_STATE_READY), GST_STATE_CHANGE_SUCCESS) << one.describe();
  ASSERT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, expiring_about(*first), 5s)) << one.describe();
  EXPECT_EQ(counts.expiring.load(), 1);

  const int fingerprint_notified = counts.fingerprint_notified;
  const int expires_notified = counts.expires_notified;
  const std::string second_pem = second->certificate_pem() + second->private_key_pem();
  g_object_set(one.bin(), "certificate", second_pem.c_str(), nullptr);
  EXPECT_EQ(counts.fingerprint_notified.load(), fingerprint_notified + 1);
  EXPECT_EQ(counts.expires_notified.load(), expires_notified + 1);
  EXPECT_EQ(one.string_property("local-fingerprint"), second->fingerprint().to_string());
  EXPECT_EQ(one.expires(), std::chrono::system_clock::to_time_t(second->not_after()));
  ASSERT_TRUE(one.wait_for(GST_MESSAGE_ELEMENT, expiring_about(*second), 5s))
      << "the new certificate's expiry was not announced" << one.describe();
  EXPECT_EQ(counts.expiring.load(), 2);

  g_object_set(one.bin(), "certificate-file", expired.c_str(), nullptr);
  EXPECT_TRUE(one.wait_for(GST_MESSAGE_WARNING,
                           "certificate-file rejected: the certificate is expired on", 2s))
      << one.describe();
  EXPECT_EQ(one.string_property("local-fingerprint"), second->fingerprint().to_string());
  EXPECT_EQ(one.string_property("certificate-file"), "");
  EXPECT_EQ(counts.fingerprint_notified.load(), fingerprint_notified + 1);

  // Past the first certificate's notAfter: nothing about it.
  const auto first_end = first->not_after();
  one.wait_for(GST_MESSAGE_UNKNOWN, "none",
               std::chrono::duration_cast<std::chrono::seconds>(first_end -
                                                                std::chrono::system_clock::now()) +
                   2s);
  EXPECT_EQ(one.count(GST_MESSAGE_WARNING, "the DTLS certificate expired on"), 0u)
      << one.describe();
  EXPECT_EQ(one.count(GST_MESSAGE_ELEMENT, expiring_about(*first)), 1u);
  EXPECT_EQ(one.count(GST_MESSAGE_ERROR, ""), 0u) << one.describe();
}
