// The identity's life: a configured certificate outside its validity period stops NULL→READY; a
// generated one inside the expiry-warning margin is replaced at NULL→READY (and so at an
// auto-restart's new run); while a run exists, a timer on the shared context tells the
// application once when the margin is entered (element message + `certificate-expiring`) and
// once at expiry (WARNING). A certificate set while running (rotation) goes to the running DTLS
// transport for its next handshake and the timer follows it. Times are wall-clock (the
// certificate's dates are).
#include <algorithm>
#include <chrono>
#include <utility>

#include "bin_private.h"
#include "main_context.h"

#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

using Clock = std::chrono::system_clock;

guint signal_certificate_expiring;

// Looks again at least this often, so a wall clock set forward is noticed within the hour.
constexpr gint64 kMaxTimerSeconds = 3600;

gint64 unix_seconds(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// The margin in seconds: the configured warning, at most a tenth of the lifetime.
gint64 margin_seconds(const Settings& s) {
  const dt::Certificate& certificate = *s.certificate;
  const gint64 lifetime = s.certificate_from_user ? unix_seconds(certificate.not_after()) -
                                                        unix_seconds(certificate.not_before())
                                                  : static_cast<gint64>(s.certificate_lifetime);
  return std::min<gint64>(s.certificate_expiry_warning, std::max<gint64>(lifetime / 10, 0));
}

struct Watch {
  GWeakRef self;
};

gboolean on_timer(gpointer data);

// Call with impl.lock held: replaces the pending timer by one in `seconds`.
void schedule_locked(GstDtlsTransportBin* self, gint64 seconds) {
  BinImpl& impl = impl_of(self);
  // Acquired before the old source goes, so its release is never the shared thread's last.
  GMainContext* context = shared_main_context_acquire();
  if (impl.identity.source) {
    g_source_destroy(impl.identity.source);
    g_source_unref(impl.identity.source);
  }
  seconds = std::clamp<gint64>(seconds, 0, kMaxTimerSeconds);
  // Milliseconds, not whole seconds: g_timeout_source_new_seconds may fire up to a second late
  // and the check below would then see nothing due.
  GSource* source = g_timeout_source_new(static_cast<guint>(seconds * 1000 + 50));
  auto* watch = new Watch;
  g_weak_ref_init(&watch->self, self);
  g_source_set_callback(source, on_timer, watch, [](gpointer data) {
    auto* done = static_cast<Watch*>(data);
    g_weak_ref_clear(&done->self);
    delete done;
    shared_main_context_release();
  });
  g_source_attach(source, context);
  g_main_context_unref(context);
  impl.identity.source = source;
}

// What is due now, and when to look next (-1: never again for this certificate).
struct Due {
  bool expiring = false;
  bool expired = false;
  std::string fingerprint;
  gint64 not_after = 0;
  gint64 seconds_left = 0;
  gint64 next = -1;
};

Due check_locked(BinImpl& impl) {
  Due due;
  const Settings& s = impl.settings;
  if (!s.certificate || impl.run.phase == Phase::Null) return due;
  const gint64 now = unix_seconds(Clock::now());
  due.not_after = unix_seconds(s.certificate->not_after());
  due.seconds_left = due.not_after - now;
  const gint64 margin = margin_seconds(s);
  IdentityWatch& w = impl.identity;
  if (due.seconds_left <= margin && !w.expiring_told) {
    w.expiring_told = due.expiring = true;
  }
  if (due.seconds_left < 0 && !w.expired_told) w.expired_told = due.expired = true;
  if (!w.expiring_told)
    due.next = due.seconds_left - margin;
  else if (!w.expired_told)
    due.next = due.seconds_left + 1;
  if (due.expiring || due.expired) due.fingerprint = s.certificate->fingerprint().to_string();
  return due;
}

void tell(GstDtlsTransportBin* self, const Due& due) {
  if (due.expiring) {
    GST_WARNING_OBJECT(self, "certificate %s expires in %" G_GINT64_FORMAT " s",
                       due.fingerprint.c_str(), due.seconds_left);
    post_element_message(self, "dtlstransport-certificate-expiring", "fingerprint", G_TYPE_STRING,
                         due.fingerprint.c_str(), "not-after", G_TYPE_INT64, due.not_after,
                         "seconds-left", G_TYPE_INT64, due.seconds_left, nullptr);
    g_signal_emit(self, signal_certificate_expiring, 0, due.fingerprint.c_str(), due.not_after,
                  due.seconds_left);
  }
  if (due.expired) {
    const std::string when = dt::utc_text(Clock::from_time_t(static_cast<time_t>(due.not_after)));
    gchar* text = g_strdup_printf(
        "the DTLS certificate expired on %s: peers that check dates refuse it (set "
        "certificate/certificate-file, or go to NULL and back for a new generated one)",
        when.c_str());
    GError* error = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, text);
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_warning(GST_OBJECT(self), error, text));
    g_error_free(error);
    g_free(text);
  }
}

// Checks, reschedules, then tells with no lock held.
void check_and_tell(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  Due due;
  GSource* done = nullptr;
  {
    std::lock_guard lock(impl.lock);
    due = check_locked(impl);
    if (due.next >= 0)
      schedule_locked(self, due.next);
    else
      done = std::exchange(impl.identity.source, nullptr);
  }
  if (done) {
    g_source_destroy(done);  // may drop the shared context's last user: no lock held
    g_source_unref(done);
  }
  tell(self, due);
}

gboolean on_timer(gpointer data) {
  auto* watch = static_cast<Watch*>(data);
  auto* self = static_cast<GstDtlsTransportBin*>(g_weak_ref_get(&watch->self));
  if (!self) return G_SOURCE_REMOVE;
  BinImpl& impl = impl_of(self);
  bool current;
  {
    std::lock_guard lock(impl.lock);
    current = impl.identity.source == g_main_current_source();
    if (current) {
      // This source ends here: check_and_tell schedules the next one.
      g_source_unref(impl.identity.source);
      impl.identity.source = nullptr;
    }
  }
  if (current) check_and_tell(self);
  gst_object_unref(self);
  return G_SOURCE_REMOVE;
}

}  // namespace

void install_identity_signals(GType type) {
  signal_certificate_expiring =
      g_signal_new("certificate-expiring", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT64, G_TYPE_INT64);
}

bool prepare_identity(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::string problem;
  {
    std::lock_guard lock(impl.lock);
    Settings& s = impl.settings;
    if (!s.certificate) return true;
    const auto now = Clock::now();
    if (s.certificate_from_user) {
      if (dt::Status valid = s.certificate->check_validity(now); !valid)
        problem = valid.error().message;
    } else if (unix_seconds(s.certificate->not_after()) - unix_seconds(now) <= margin_seconds(s)) {
      GST_INFO_OBJECT(self, "generated certificate expires on %s: generating a new one",
                      dt::utc_text(s.certificate->not_after()).c_str());
      s.certificate.reset();  // create_run generates the next one
    }
  }
  if (!problem.empty()) {
    const char* which = nullptr;
    {
      std::lock_guard lock(impl.lock);
      which = impl.settings.certificate_file.empty() ? "certificate" : "certificate-file";
    }
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("the configured DTLS certificate (%s) is %s", which, problem.c_str()),
                      ("peers that check dates refuse a certificate outside its validity "
                       "period: configure a valid one, or set %s to \"\" to use a generated "
                       "certificate",
                       which));
    return false;
  }
  return true;
}

void identity_watch_start(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  {
    std::lock_guard lock(impl.lock);
    IdentityWatch& w = impl.identity;
    std::string in_use =
        impl.settings.certificate ? impl.settings.certificate->fingerprint().to_string() : "";
    if (w.fingerprint != in_use) {
      w.fingerprint = in_use;
      w.expiring_told = w.expired_told = false;
    }
  }
  notify(self, PROP_CERTIFICATE_EXPIRES);
  check_and_tell(self);
}

void identity_watch_update(GstDtlsTransportBin* self) { check_and_tell(self); }

void identity_changed(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  bool running;
  std::string fingerprint, kept;
  dt::Status status;
  {
    std::lock_guard identity(impl.identity_lock);
    std::shared_ptr<const dt::DtlsContext> context;
    {
      std::lock_guard lock(impl.lock);
      const Settings& s = impl.settings;
      if (!s.certificate) return;
      running = impl.run.phase != Phase::Null;
      fingerprint = s.certificate->fingerprint().to_string();
      // From Prepared on the run has a DTLS transport, made with impl.dtls_context; before, the
      // next prepare_transport sees the new certificate itself.
      if (impl.run.phase >= Phase::Prepared && impl.dtls_context &&
          impl.dtls_context->certificate().x509() != s.certificate->x509()) {
        kept = impl.dtls_context->certificate().fingerprint().to_string();
        // The run's SRTP profiles, not a value stored since for the next run.
        auto created = dt::DtlsContext::create(*s.certificate, impl.dtls_context->srtp_profiles());
        if (created) {
          context = std::move(created).value();
          impl.dtls_context = context;
        } else {
          status = created.error();
        }
      }
    }
    if (context) endpoint_set_context(self->endpoint, std::move(context));
  }
  if (!status) {
    warn(self,
         "the new DTLS certificate cannot be used by this run's transport (%s): it keeps "
         "the previous one until the next run",
         status.error().message.c_str());
  } else if (!kept.empty()) {
    GST_INFO_OBJECT(self,
                    "certificate rotated: the next DTLS handshake presents %s; the "
                    "association in use keeps %s",
                    fingerprint.c_str(), kept.c_str());
  }
  notify(self, PROP_LOCAL_FINGERPRINT);
  if (!running) {
    notify(self, PROP_CERTIFICATE_EXPIRES);
    return;
  }
  identity_watch_start(self);  // notifies certificate-expires; the timer follows the new one
  post_local_parameters(self);
}

void identity_watch_stop(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  GSource* source;
  {
    std::lock_guard lock(impl.lock);
    source = std::exchange(impl.identity.source, nullptr);
  }
  if (!source) return;
  g_source_destroy(source);
  g_source_unref(source);
}

gint64 certificate_expires(const Settings& s) {
  return s.certificate ? unix_seconds(s.certificate->not_after()) : 0;
}

}  // namespace gstdtls
