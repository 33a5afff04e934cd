// ServeProcess: a real `agora serve` child process for tests; stderr is read until it says
// where it listens (port 0 = any free port).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_test_util.h"

namespace agora::test {

// `agora serve` as a child process; stderr is read until it says where it listens.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    // Each server gets its own data directory unless the test names one (two servers on one
    // directory is refused: the data-directory lock).
    bool has_data_dir = false;
    for (const auto& a : args) has_data_dir = has_data_dir || a == "--data-dir";
    if (!has_data_dir) {
      char tmpl[] = "/tmp/agora-serve-data-XXXXXX";
      if (::mkdtemp(tmpl)) {
        data_dir_ = tmpl;
        args.push_back("--data-dir");
        args.push_back(data_dir_);
      }
    }
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const std::string bin = agora_binary();
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(bin.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    err_fd_ = fds[0];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{err_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(err_fd_, buf, sizeof buf);
      if (n <= 0) break;
      log_.append(buf, n);
      const size_t at = log_.find("listening on http://");
      if (at != std::string::npos && log_.find('\n', at) != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(log_.c_str() + log_.find(':', at + 20) + 1));
        break;
      }
    }
    ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }
  // Peak resident set size (VmHWM) in MiB.
  double peak_rss_mib() const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.starts_with("VmHWM:")) return std::atof(line.c_str() + 6) / 1024.0;
    return -1;
  }
  // SIGTERM and wait (bounded); the exit code, or -1.
  int terminate(std::chrono::seconds limit) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  std::string data_dir_;  // ours to remove
  pid_t pid_ = -1;
  int err_fd_ = -1;
  uint16_t port_ = 0;
  bool exited_ = false;
  std::string log_;
};

}  // namespace agora::test
