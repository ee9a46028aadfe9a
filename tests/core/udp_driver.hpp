// Real-socket plumbing for interop tests: a UDP socket on 127.0.0.1, a DtlsTransport driven over
// it by a poll() loop on the steady clock, and child processes (OpenSSL's s_server/s_client) with
// a pid we own, their stdin held open and their stdout+stderr read from a pipe.
//
// The core is sans-IO; this is the smallest event loop that gives it a network and a clock, and
// it is bounded by an explicit deadline on every wait so a silent peer cannot hang a test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dtls_transport.hpp"

namespace dtlstransport::testing {

// A file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

inline std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Milliseconds from now until `at` for poll(): rounded up (so a timer is never woken early and
// spun on), clamped to [0, INT_MAX-ish].
inline int poll_timeout_ms(TimePoint now, TimePoint at) {
  if (at <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

// A UDP socket bound to 127.0.0.1. Sends to a fixed peer (client side) or to whoever sent the
// first datagram (server side).
class UdpSocket {
 public:
  static std::optional<UdpSocket> bind_loopback(std::string& error, uint16_t port = 0) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
      error = errno_text("socket");
      return std::nullopt;
    }
    sockaddr_in address = loopback(port);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      error = errno_text("bind 127.0.0.1");
      return std::nullopt;
    }
    socklen_t length = sizeof address;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      error = errno_text("getsockname");
      return std::nullopt;
    }
    return UdpSocket(std::move(fd), ntohs(address.sin_port));
  }

  int fd() const { return fd_.get(); }
  uint16_t port() const { return port_; }
  void set_peer_port(uint16_t port) { peer_ = loopback(port); }
  bool has_peer() const { return peer_.has_value(); }

  // Best effort, like the network: a datagram that cannot be sent is lost (and counted).
  void send(std::span<const uint8_t> datagram) {
    if (!peer_) {
      ++send_failures_;
      return;
    }
    const ssize_t sent = ::sendto(fd_.get(), datagram.data(), datagram.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&*peer_), sizeof *peer_);
    if (sent != static_cast<ssize_t>(datagram.size())) ++send_failures_;
  }

  // One datagram if one is waiting. The first sender becomes the peer when none is set.
  std::optional<std::vector<uint8_t>> receive() {
    std::vector<uint8_t> buffer(65536);
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t received = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), 0,
                                        reinterpret_cast<sockaddr*>(&from), &length);
    if (received < 0) return std::nullopt;
    if (!peer_) peer_ = from;
    buffer.resize(static_cast<size_t>(received));
    return buffer;
  }

  size_t send_failures() const { return send_failures_; }

 private:
  UdpSocket(UniqueFd fd, uint16_t port) : fd_(std::move(fd)), port_(port) {}

  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  UniqueFd fd_;
  uint16_t port_ = 0;
  std::optional<sockaddr_in> peer_;
  size_t send_failures_ = 0;
};

// A UDP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close). Another process
// may take it before the child binds it: callers retry on a bind failure.
inline uint16_t pick_free_udp_port() {
  std::string error;
  auto socket = UdpSocket::bind_loopback(error);
  return socket ? socket->port() : 0;
}

// A child process in its own process group, stdin a pipe we keep open (s_server quits at end of
// input), stdout and stderr merged into one pipe we read. Killed (the whole group) and reaped on
// destruction.
class ChildProcess {
 private:
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };

 public:
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv,
                                             std::string& error) {
    if (argv.empty()) {
      error = "spawn: empty argv";
      return nullptr;
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
      error = errno_text("pipe2");
      return nullptr;
    }
    UniqueFd in_read(in[0]), in_write(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) {
      error = errno_text("pipe2");
      return nullptr;
    }
    UniqueFd out_read(out[0]), out_write(out[1]);
    // Everything the child needs is prepared before fork(): between fork and exec only
    // async-signal-safe calls are allowed.
    std::vector<char*> args;
    std::vector<std::string> storage(argv);
    for (auto& arg : storage) args.push_back(arg.data());
    args.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
      error = errno_text("fork");
      return nullptr;
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      ::dup2(in_read.get(), STDIN_FILENO);  // dup2 clears O_CLOEXEC on the copy
      ::dup2(out_write.get(), STDOUT_FILENO);
      ::dup2(out_write.get(), STDERR_FILENO);
      ::execvp(args[0], args.data());
      static const char message[] = "exec failed\n";
      [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
      ::_exit(127);
    }
    ::setpgid(pid, pid);  // also from the parent, so kill(-pid) works whoever runs first
    ::fcntl(out_read.get(), F_SETFL, ::fcntl(out_read.get(), F_GETFL) | O_NONBLOCK);
    auto child = std::make_unique<ChildProcess>(ConstructionKey{}, pid, std::move(in_write),
                                                std::move(out_read));
    child->command_ = join(argv);
    return child;
  }

  ChildProcess(ConstructionKey, pid_t pid, UniqueFd input, UniqueFd output)  // use spawn()
      : pid_(pid), input_(std::move(input)), output_(std::move(output)) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { kill_and_reap(); }

  pid_t pid() const { return pid_; }
  int output_fd() const { return output_.get(); }
  const std::string& output() const { return text_; }
  const std::string& command() const { return command_; }

  // Reads whatever the child wrote so far (non-blocking).
  void read_available() {
    if (!output_.valid()) return;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(output_.get(), buffer, sizeof buffer);
      if (n > 0) {
        text_.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) output_.reset();  // EOF: the child (and any grandchild) closed it
      return;
    }
  }

  // Whether the child has exited (reaps it once).
  bool exited() {
    if (!exit_status_ && pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
    }
    return exit_status_.has_value();
  }
  std::optional<int> exit_code() const {
    if (!exit_status_ || !WIFEXITED(*exit_status_)) return std::nullopt;
    return WEXITSTATUS(*exit_status_);
  }

  // Waits until the output contains `text`; false on deadline or when the output ends first.
  bool wait_for_output(std::string_view text, TimePoint deadline) {
    return wait_for_output_where(
        [text](const std::string& output) { return output.find(text) != std::string::npos; },
        deadline);
  }

  // Waits until `done(output so far)` holds; false on deadline or when the output ends (the
  // child and any grandchild closed it) with `done` still false.
  bool wait_for_output_where(const std::function<bool(const std::string&)>& done,
                             TimePoint deadline) {
    for (;;) {
      read_available();
      if (done(text_)) return true;
      if (!output_.valid()) return false;
      const auto now = Clock::now();
      if (now >= deadline) return false;
      pollfd watched{output_.get(), POLLIN, 0};
      ::poll(&watched, 1, poll_timeout_ms(now, deadline));
    }
  }

  // Waits for the child to end, reading its output; false (and the child killed) on deadline.
  bool wait_for_exit(TimePoint deadline) {
    for (;;) {
      read_available();
      if (!output_.valid() && exited()) return true;
      const auto now = Clock::now();
      if (now >= deadline) {
        kill_and_reap();
        return false;
      }
      if (output_.valid()) {
        pollfd watched{output_.get(), POLLIN, 0};
        ::poll(&watched, 1, std::min(poll_timeout_ms(now, deadline), 50));
      } else {
        ::poll(nullptr, 0, std::min(poll_timeout_ms(now, deadline), 10));
      }
    }
  }

  void kill_and_reap() {
    if (pid_ <= 0) return;
    if (!exited()) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      exit_status_ = status;
    } else {
      ::kill(-pid_, SIGKILL);  // a straggler left in the group, if any
    }
    read_available();
    pid_ = -1;
    input_.reset();
  }

 private:
  static std::string join(const std::vector<std::string>& argv) {
    std::string joined;
    for (const auto& arg : argv) joined += (joined.empty() ? "" : " ") + arg;
    return joined;
  }

  pid_t pid_;
  UniqueFd input_;   // held open: EOF on its stdin makes s_server quit
  UniqueFd output_;  // read end of stdout+stderr
  std::string text_;
  std::string command_;
  std::optional<int> exit_status_;
};

// A temporary directory removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dtls-interop-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  bool valid() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  bool write(const std::string& name, const std::string& contents) const {
    std::ofstream stream(file(name), std::ios::binary | std::ios::trunc);
    stream << contents;
    return static_cast<bool>(stream);
  }

 private:
  std::filesystem::path path_;
};

// What the core reported through its callbacks.
struct CoreLog {
  std::vector<DtlsState> states;
  FailureReason failure = FailureReason::None;
  std::string failure_detail;
  std::vector<SrtpKeys> keys;
};

// One DtlsTransport on one UDP socket, driven by poll() on the steady clock.
class UdpDtlsEndpoint {
 private:
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };

 public:
  static std::unique_ptr<UdpDtlsEndpoint> create(DtlsConfig config, std::string& error) {
    auto socket = UdpSocket::bind_loopback(error);
    if (!socket) return nullptr;
    auto endpoint = std::make_unique<UdpDtlsEndpoint>(ConstructionKey{}, std::move(*socket));
    // The callbacks hold `raw`: the endpoint lives on the heap and never moves.
    UdpDtlsEndpoint* raw = endpoint.get();
    DtlsCallbacks callbacks;
    callbacks.send_datagram = [raw](std::span<const uint8_t> bytes) { raw->socket_.send(bytes); };
    callbacks.state_changed = [raw](DtlsState state, FailureReason reason,
                                    const std::string& detail) {
      raw->log_.states.push_back(state);
      if (state == DtlsState::Failed) {
        raw->log_.failure = reason;
        raw->log_.failure_detail = detail;
      }
    };
    callbacks.srtp_keys = [raw](const SrtpKeys& keys) { raw->log_.keys.push_back(keys); };
    auto transport = DtlsTransport::create(std::move(config), std::move(callbacks));
    if (!transport) {
      error = transport.error().message;
      return nullptr;
    }
    endpoint->transport_ = std::move(*transport);
    return endpoint;
  }

  UdpDtlsEndpoint(ConstructionKey, UdpSocket socket) : socket_(std::move(socket)) {}  // create()
  UdpDtlsEndpoint(const UdpDtlsEndpoint&) = delete;
  UdpDtlsEndpoint& operator=(const UdpDtlsEndpoint&) = delete;

  DtlsTransport& transport() { return *transport_; }
  UdpSocket& socket() { return socket_; }
  const CoreLog& log() const { return log_; }
  bool settled() const {
    const DtlsState state = transport_->state();
    return state == DtlsState::Connected || state == DtlsState::Failed ||
           state == DtlsState::Closed;
  }

  // Runs the transport's I/O and timers until `done` holds or `deadline` passes, also draining
  // the output of `watched` children (so a chatty child never blocks on a full pipe). Returns
  // whether `done` held.
  bool run_until(const std::function<bool()>& done, TimePoint deadline,
                 const std::vector<ChildProcess*>& watched = {}) {
    for (;;) {
      for (ChildProcess* child : watched) child->read_available();
      if (done()) return true;
      TimePoint now = Clock::now();
      if (now >= deadline) return false;

      TimePoint wake = deadline;
      if (auto timer = transport_->next_timeout(); timer && *timer < wake) wake = *timer;
      std::vector<pollfd> fds{{socket_.fd(), POLLIN, 0}};
      for (ChildProcess* child : watched) {
        if (child->output_fd() >= 0) fds.push_back({child->output_fd(), POLLIN, 0});
      }
      const int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(now, wake));
      if (ready < 0 && errno != EINTR) return false;

      if (fds[0].revents & POLLIN) {
        while (auto datagram = socket_.receive()) {
          transport_->handle_datagram(*datagram, Clock::now());
        }
      }
      now = Clock::now();
      if (auto timer = transport_->next_timeout(); timer && *timer <= now) {
        transport_->handle_timeout(now);
      }
    }
  }

 private:
  UdpSocket socket_;
  CoreLog log_;
  std::unique_ptr<DtlsTransport> transport_;
};

}  // namespace dtlstransport::testing
