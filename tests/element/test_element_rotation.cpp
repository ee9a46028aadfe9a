// Certificate rotation (issue 9 item 1): a new identity set while PLAYING is checked at once,
// local-fingerprint and certificate-expires notify at once, the running call keeps its
// association (media flows, the peer's verified certificate is unchanged), and the next handshake
// presents the new certificate: a peer that restarts told the new fingerprint reconnects and
// verifies it, one told only the old fingerprint fails. A rejected rotation keeps the identity in
// use and says why. A generated certificate inside its expiry margin is renewed at an
// auto-restart. Certificates made with the openssl command-line tool; two real bins.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "pair.h"
//
#include <gst/check/gstcheck.h>

using namespace elemtest;

namespace {

// Runs a shell command, failing the test unless it succeeds; returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(("(" + command + ") 2>/dev/null").c_str(), "r");
  fail_unless(pipe != nullptr, "%s", command.c_str());
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  fail_unless_equals_int(pclose(pipe), 0);
  return out;
}

struct TempDir {
  TempDir() {
    char name[] = "/tmp/dtlstransport-rotation-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const char* name) const { return path + "/" + name; }
  std::string path;
};

// A new ECDSA P-256 identity from the openssl tool, certificate and key in one PEM file.
// Returns its path; `fingerprint` is "sha-256 AB:…" as openssl computes it.
std::string make_identity(const TempDir& dir, const char* name, std::string* fingerprint,
                          const char* days = "2") {
  const std::string key = dir.file((std::string(name) + ".key").c_str());
  const std::string cert = dir.file((std::string(name) + ".crt").c_str());
  const std::string both = dir.file((std::string(name) + ".pem").c_str());
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" +
      std::string(name) + " -days " + days + " -keyout " + key + " -out " + cert);
  run("cat " + cert + " " + key + " > " + both);
  if (fingerprint) {
    // "sha256 Fingerprint=AB:CD:…" (OpenSSL 3) or "SHA256 Fingerprint=…" (1.1).
    std::string line = run("openssl x509 -noout -fingerprint -sha256 -in " + cert);
    line = line.substr(line.find('=') + 1);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    *fingerprint = "sha-256 " + line;
  }
  return both;
}

void expect_property(Side& side, const char* name, const std::string& expected) {
  const std::string value = side.string_property(name);
  fail_unless(value == expected, "%s %s is '%s', not '%s'", side.label.c_str(), name, value.c_str(),
              expected.c_str());
}

struct Notified {
  gint local_fingerprint = 0;
  gint certificate_expires = 0;
};

void count_notifies(GstElement* bin, Notified* notified) {
  g_signal_connect(bin, "notify::local-fingerprint",
                   G_CALLBACK(+[](GObject*, GParamSpec*, Notified* n) {
                     g_atomic_int_inc(&n->local_fingerprint);
                   }),
                   notified);
  g_signal_connect(bin, "notify::certificate-expires",
                   G_CALLBACK(+[](GObject*, GParamSpec*, Notified* n) {
                     g_atomic_int_inc(&n->certificate_expires);
                   }),
                   notified);
}

gint64 expires(GstElement* bin) {
  gint64 value = 0;
  g_object_get(bin, "certificate-expires", &value, nullptr);
  return value;
}

// Fixed ports, as in a static configuration: a side that comes back is where it was.
guint fix_ports(Pair& pair) {
  const auto [a_port, b_port] = two_free_udp_ports();
  g_object_set(pair.a().bin, "min-port", a_port, "max-port", a_port, nullptr);
  g_object_set(pair.b().bin, "min-port", b_port, "max-port", b_port, nullptr);
  return b_port;
}

// B's process "crashes" (nothing more leaves it, no close_notify) and comes back with the same
// configuration but for `a_fingerprint`, what it was told of A.
void restart_b(Pair& pair, guint b_port, const std::string& a_fingerprint) {
  silence(pair.b().bin);
  fail_unless_equals_int(gst_element_set_state(pair.b().pipeline, GST_STATE_NULL),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(pair.wait_until([&] { return udp_port_free(b_port); }, 5 * G_USEC_PER_SEC));
  g_object_set(pair.b().bin, "remote-fingerprints", a_fingerprint.c_str(), nullptr);
  fail_unless(gst_element_set_state(pair.b().pipeline, GST_STATE_PLAYING) !=
              GST_STATE_CHANGE_FAILURE);
}

}  // namespace

GST_START_TEST(test_rotation_while_playing) {
  TempDir dir;
  std::string new_fingerprint;
  const std::string identity = make_identity(dir, "rotated", &new_fingerprint);
  const std::string expired = dir.file("expired.pem");
  run("openssl x509 -in " + dir.file("rotated.crt") + " -key " + dir.file("rotated.key") +
      " -days -1 -out " + dir.file("expired.crt"));
  run("cat " + dir.file("expired.crt") + " " + dir.file("rotated.key") + " > " + expired);
  const std::string garbage = dir.file("garbage.pem");
  run("echo 'not a certificate' > " + garbage);

  Pair pair;
  const guint b_port = fix_ports(pair);
  g_object_set(pair.a().bin, "role", kServer, nullptr);
  g_object_set(pair.b().bin, "role", kClient, nullptr);
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 3, 0x0a0000e1, 100);
  const std::string old_fingerprint = pair.a().string_property("local-fingerprint");
  const std::string b_verified = pair.b().string_property("remote-certificate");
  const gint64 old_expires = expires(pair.a().bin);
  fail_if(old_fingerprint == new_fingerprint);

  // The rotation: notified before g_object_set returns.
  Notified notified;
  count_notifies(pair.a().bin, &notified);
  g_object_set(pair.a().bin, "certificate-file", identity.c_str(), nullptr);
  fail_unless_equals_int(g_atomic_int_get(&notified.local_fingerprint), 1);
  fail_unless_equals_int(g_atomic_int_get(&notified.certificate_expires), 1);
  expect_property(pair.a(), "local-fingerprint", new_fingerprint);
  fail_unless(expires(pair.a().bin) != old_expires);
  fail_unless(pair.a().warnings.empty(), "%s", pair.a().describe().c_str());

  // Rejected rotations: a file that holds no certificate, an expired certificate. Each is refused
  // with a warning saying why; the identity in use stays, nothing is notified.
  g_object_set(pair.a().bin, "certificate-file", garbage.c_str(), nullptr);
  g_object_set(pair.a().bin, "certificate-file", expired.c_str(), nullptr);
  pair.settle(200 * 1000);
  fail_unless(pair.a().has_warning({"certificate-file rejected", "certificate in use is kept"}),
              "%s", pair.a().describe().c_str());
  fail_unless(pair.a().has_warning(
                  {"certificate-file rejected", "expired on", "certificate in use is kept"}),
              "%s", pair.a().describe().c_str());
  expect_property(pair.a(), "local-fingerprint", new_fingerprint);
  expect_property(pair.a(), "certificate-file", identity);
  fail_unless_equals_int(g_atomic_int_get(&notified.local_fingerprint), 1);
  fail_unless_equals_int(g_atomic_int_get(&notified.certificate_expires), 1);

  // The running call keeps its association: media both ways, B's verified peer unchanged.
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000e2, 200);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000e2, 200);
  fail_unless(pair.b().string_property("remote-certificate") == b_verified);
  fail_unless_equals_int(pair.a().state(), kConnected);
  fail_unless_equals_int(pair.a().count_state_changes(kConnected), 1);

  // B restarts told only A's old fingerprint: A's next handshake presents the new certificate,
  // B refuses it. A's association is left as it was.
  restart_b(pair, b_port, old_fingerprint);
  fail_unless(pair.wait_state(pair.b(), kFailed, 15 * G_USEC_PER_SEC),
              "B accepted A with the old fingerprint:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  fail_unless(pair.b().has_warning({"fingerprint"}), "%s", pair.b().describe().c_str());
  fail_unless_equals_uint64(pair.a().stat("reconnects"), 0);
  fail_unless_equals_int(pair.a().state(), kConnected);

  // B restarts told the new fingerprint: the new handshake verifies the new certificate and
  // replaces A's association.
  restart_b(pair, b_port, new_fingerprint);
  fail_unless(
      pair.wait_until(
          [&] { return pair.b().state() == kConnected && pair.a().stat("reconnects") == 1; },
          15 * G_USEC_PER_SEC),
      "no reconnection with the new certificate:\n%s\n%s", pair.a().describe().c_str(),
      pair.b().describe().c_str());
  const std::string b_verified_now = pair.b().string_property("remote-certificate");
  fail_unless(b_verified_now == pair.a().string_property("local-certificate"));
  fail_unless(b_verified_now != b_verified);
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000e3, 300);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000e3, 300);
  fail_unless_equals_int(pair.a().count_state_changes(kConnected), 1);
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

// A generated certificate of 10 s (margin: a tenth, 1 s): once the margin is entered, the next
// auto-restart's run generates a new one, notified; the peer told the new fingerprint connects.
GST_START_TEST(test_auto_restart_renews_an_expiring_generated_certificate) {
  Pair pair;
  const guint b_port = fix_ports(pair);
  g_object_set(pair.a().bin, "auto-restart", TRUE, "certificate-lifetime", 10u, nullptr);
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  const std::string old_fingerprint = pair.a().string_property("local-fingerprint");
  const gint64 old_expires = expires(pair.a().bin);
  Notified notified;
  count_notifies(pair.a().bin, &notified);
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.a().count_element_messages("dtlstransport-certificate-expiring") ==
                           1;
                  },
                  12 * G_USEC_PER_SEC),
              "no expiry announcement:\n%s", pair.a().describe().c_str());

  // B goes away: A hears close_notify and auto-restarts.
  fail_unless_equals_int(gst_element_set_state(pair.b().pipeline, GST_STATE_NULL),
                         GST_STATE_CHANGE_SUCCESS);
  // The new run notifies from the restart's thread, after it has stored the new certificate.
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.a().string_property("local-fingerprint") != old_fingerprint &&
                           g_atomic_int_get(&notified.local_fingerprint) >= 1 &&
                           g_atomic_int_get(&notified.certificate_expires) >= 1;
                  },
                  5 * G_USEC_PER_SEC),
              "the auto-restart kept the expiring certificate (or did not notify: %d, %d):\n%s",
              g_atomic_int_get(&notified.local_fingerprint),
              g_atomic_int_get(&notified.certificate_expires), pair.a().describe().c_str());
  fail_unless(pair.a().count_element_messages("dtlstransport-restart") >= 1);
  fail_unless(expires(pair.a().bin) > old_expires);

  const std::string new_fingerprint = pair.a().string_property("local-fingerprint");
  fail_unless(pair.wait_until([&] { return udp_port_free(b_port); }, 5 * G_USEC_PER_SEC));
  g_object_set(pair.b().bin, "remote-fingerprints", new_fingerprint.c_str(), nullptr);
  fail_unless_equals_int(gst_element_set_state(pair.b().pipeline, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.a().count_state_changes(kConnected) >= 2 &&
                           pair.b().count_state_changes(kConnected) >= 2;
                  },
                  15 * G_USEC_PER_SEC),
              "not connected again:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  fail_unless(pair.b().string_property("remote-certificate") ==
              pair.a().string_property("local-certificate"));
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000e4, 100);
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

static Suite* element_rotation_suite(void) {
  Suite* s = suite_create("element_rotation");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 90);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_rotation_while_playing);
  tcase_add_test(tc, test_auto_restart_renews_an_expiring_generated_certificate);
  return s;
}

GST_CHECK_MAIN(element_rotation)
