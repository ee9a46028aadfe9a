// File descriptors a transport takes (docs/performance.md): a UDP socket per local address
// (libnice gathers a host candidate on each; a TURN allocation over UDP shares that socket, one
// over TCP — `?transport=tcp` — has its own per address), and two
// wakeups (eventfds) of the main contexts nicesrc and its streaming need. GLib aborts the whole
// process when it cannot create a wakeup ("Creating pipes for GWakeup: Too many open files"), so
// NULL→READY checks first that this transport fits under RLIMIT_NOFILE with some to spare, and
// fails its own state change with an ERROR if not.
#include <dirent.h>
#include <errno.h>
#include <nice/interfaces.h>
#include <sys/resource.h>

#include <optional>
#include <string>
#include <vector>

#include "bin_private.h"
#include "ice/ice_server_url.h"

#define GST_CAT_DEFAULT bin_debug

namespace gstdtls {
namespace {

constexpr unsigned kWakeups = 2;
// For what others in the process open meanwhile (a pipeline's bus, a thread's wakeup, a log).
constexpr unsigned kSpare = 8;

// Entries of /proc/self/fd, or nothing where there is no such directory (then nothing is
// checked). Opening it takes a descriptor itself: EMFILE/ENFILE means none is left.
std::optional<unsigned> open_descriptors(bool* exhausted) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    *exhausted = errno == EMFILE || errno == ENFILE;
    return std::nullopt;
  }
  unsigned count = 0;
  while (const dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') count++;
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // less the directory's own
}

unsigned detected_addresses() {
  GList* addresses = nice_interfaces_get_local_ips(FALSE);
  const unsigned count = g_list_length(addresses);
  g_list_free_full(addresses, g_free);
  return count > 0 ? count : 1;  // at least one, so the count errs on the side of room
}

}  // namespace

bool check_descriptors_at_ready(GstDtlsTransportBin* self) {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return true;
  bool exhausted = false;
  const std::optional<unsigned> open = open_descriptors(&exhausted);
  if (!open && !exhausted) return true;
  const unsigned in_use = open ? *open : static_cast<unsigned>(limit.rlim_cur);
  unsigned addresses, tcp_servers = 0;
  std::vector<std::string> servers;
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    addresses = static_cast<unsigned>(impl.settings.local_addresses.size());
    servers = impl.settings.turn_servers();
  }
  // A TURN allocation over UDP shares the host socket; over TCP it has its own, per address.
  for (const auto& server : servers) {
    auto url = parse_ice_server_url(server, IceServerKind::Turn);
    if (url && url.value().transport == TurnTransport::Tcp) tcp_servers++;
  }
  if (addresses == 0) addresses = detected_addresses();
  const unsigned sockets = addresses * (1 + tcp_servers);
  const unsigned needed = sockets + kWakeups;
  if (static_cast<rlim_t>(in_use) + needed + kSpare <= limit.rlim_cur) return true;
  GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
                    ("not enough file descriptors for another transport"),
                    ("it needs %u (%u socket(s) for %u local address(es), %u wakeups) and %u to "
                     "spare, and %u of the process's limit of %llu are in use (RLIMIT_NOFILE, "
                     "`ulimit -n`): raise the limit or run fewer transports in this process",
                     needed, sockets, addresses, kWakeups, kSpare, in_use,
                     static_cast<unsigned long long>(limit.rlim_cur)));
  return false;
}

}  // namespace gstdtls
