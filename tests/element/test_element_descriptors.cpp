// Running out of file descriptors: a transport needs a few (a socket per local address, the
// wakeups of nicesrc's main context). Creating transports under a low `ulimit -n` must fail the
// state change of the one that does not fit with an ERROR naming the limit, never abort the
// process inside GLib ("Creating pipes for GWakeup: Too many open files"), and leave the ones
// that fit working.
#include <dirent.h>
#include <gst/check/gstcheck.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

unsigned open_descriptors() {
  unsigned count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  while (const dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') count++;
  closedir(dir);
  return count - 1;  // the directory's own
}

// The first ERROR on `bus`, as "message: debug".
std::string first_error(GstBus* bus) {
  std::string text;
  while (GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    if (text.empty()) {
      GError* error = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      text = std::string(error->message) + ": " + (debug ? debug : "");
      g_error_free(error);
      g_free(debug);
    }
    gst_message_unref(message);
  }
  return text;
}

}  // namespace

// With room for a handful of transports, the next one fails at NULL→READY with an ERROR that
// says how many descriptors it needs, how many are in use and what the limit is; the process
// goes on, the transports that fit gathered their candidates, and once they are gone and the
// limit is back a new transport starts normally.
GST_START_TEST(test_descriptor_limit_fails_state_change_not_process) {
  GstBus* bus = gst_bus_new();  // before the limit: a bus has descriptors of its own
  struct rlimit saved {};
  fail_unless(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const unsigned before = open_descriptors();
  struct rlimit low = saved;
  low.rlim_cur = before + 48;
  fail_unless(setrlimit(RLIMIT_NOFILE, &low) == 0);

  std::vector<GstElement*> bins;
  GstStateChangeReturn last = GST_STATE_CHANGE_SUCCESS;
  for (int i = 0; i < 60 && last != GST_STATE_CHANGE_FAILURE; i++) {
    GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
    fail_unless(bin != nullptr);
    gst_object_ref_sink(bin);
    gst_element_set_bus(bin, bus);
    g_object_set(bin, "local-addresses", "127.0.0.1", nullptr);
    last = gst_element_set_state(bin, GST_STATE_READY);
    bins.push_back(bin);
  }
  const std::string error = first_error(bus);
  const unsigned fitted = static_cast<unsigned>(bins.size()) - 1;
  g_print("descriptors: %u in use at the start, limit %u: %u transports fitted; then: %s\n", before,
          static_cast<unsigned>(low.rlim_cur), fitted, error.c_str());
  fail_unless_equals_int(last, GST_STATE_CHANGE_FAILURE);
  fail_unless(fitted >= 3, "only %u transports fitted in 48 descriptors", fitted);
  fail_unless(error.find("file descriptors") != std::string::npos &&
                  error.find("RLIMIT_NOFILE") != std::string::npos &&
                  error.find(std::to_string(low.rlim_cur)) != std::string::npos,
              "%s", error.c_str());
  for (unsigned i = 0; i < fitted; i++) {
    GstState state = GST_STATE_NULL;
    gst_element_get_state(bins[i], &state, nullptr, 0);
    fail_unless_equals_int(state, GST_STATE_READY);
  }

  for (GstElement* bin : bins) {
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_object_unref(bin);
  }
  gst_bus_set_flushing(bus, TRUE);  // its messages hold the bins
  gst_bus_set_flushing(bus, FALSE);
  fail_unless(setrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Everything the failed and the fitted transports opened is closed again (the agents close on
  // the shared thread, soon after NULL).
  const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (open_descriptors() > before + 2 && g_get_monotonic_time() < deadline) g_usleep(20 * 1000);
  fail_unless(open_descriptors() <= before + 2, "%u descriptors open, %u at the start",
              open_descriptors(), before);
  GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
  gst_object_ref_sink(bin);
  gst_element_set_bus(bin, bus);
  fail_unless_equals_int(gst_element_set_state(bin, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state(bin, GST_STATE_NULL);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bin);
  gst_object_unref(bus);
}
GST_END_TEST

// With no descriptor free at all (even /proc/self/fd cannot be opened to count them), the start
// fails with the same ERROR.
GST_START_TEST(test_no_descriptor_left_fails_state_change) {
  GstBus* bus = gst_bus_new();
  GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
  gst_object_ref_sink(bin);
  gst_element_set_bus(bin, bus);
  g_object_set(bin, "local-addresses", "127.0.0.1", nullptr);
  struct rlimit saved {};
  fail_unless(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // A new descriptor takes the lowest free number, which must be below the limit: a limit of
  // that number leaves none.
  const int lowest_free = dup(0);
  fail_unless(lowest_free >= 0);
  close(lowest_free);
  const unsigned open = static_cast<unsigned>(lowest_free);
  struct rlimit none = saved;
  none.rlim_cur = open;
  fail_unless(setrlimit(RLIMIT_NOFILE, &none) == 0);
  const GstStateChangeReturn ret = gst_element_set_state(bin, GST_STATE_READY);
  fail_unless(setrlimit(RLIMIT_NOFILE, &saved) == 0);
  const std::string error = first_error(bus);
  g_print("descriptors: none free below the limit of %u: %s\n", open, error.c_str());
  fail_unless_equals_int(ret, GST_STATE_CHANGE_FAILURE);
  fail_unless(error.find("file descriptors") != std::string::npos, "%s", error.c_str());
  gst_element_set_state(bin, GST_STATE_NULL);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bin);
  gst_object_unref(bus);
}
GST_END_TEST

static Suite* element_descriptors_suite(void) {
  Suite* s = suite_create("element_descriptors");
  TCase* limit = tcase_create("limit");
  tcase_add_test(limit, test_descriptor_limit_fails_state_change_not_process);
  tcase_add_test(limit, test_no_descriptor_left_fails_state_change);
  suite_add_tcase(s, limit);
  return s;
}

GST_CHECK_MAIN(element_descriptors)
