#include "core/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <filesystem>

#include "core/error.hpp"
#include "core/file_descriptor.hpp"

extern char** environ;

namespace ferry::core {

namespace {

constexpr off_t kMaxOutput = 64 * 1024;

std::string read_tail(int fd) {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    const off_t start = size > kMaxOutput ? size - kMaxOutput : 0;
    std::string text(static_cast<std::size_t>(size - start), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n =
            ::pread(fd, text.data() + done, text.size() - done, start + static_cast<off_t>(done));
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    return text;
}

// A write into a pipe whose reader has gone must fail with EPIPE, not kill ferry.
class IgnoreSigpipe {
  public:
    IgnoreSigpipe() {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ignore, &previous_);
    }
    ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &previous_, nullptr); }

  private:
    struct sigaction previous_ {};
};

}  // namespace

std::optional<std::string> find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = rest.find(':');
        const std::string dir(rest.substr(0, colon));
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        rest.remove_prefix(colon + 1);
    }
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::function<void(int fd)>& feed) {
    const std::string& program = argv.at(0);
    char output_name[] = "/tmp/ferry-process-XXXXXX";
    FileDescriptor output(::mkstemp(output_name));
    if (output.get() < 0) {
        throw Error::format(ErrorKind::storage, "cannot run {}: no temporary file for its output",
                            program);
    }
    ::unlink(output_name);
    int pipe_fds[2] = {-1, -1};
    if (feed && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw Error::format(ErrorKind::internal, "cannot run {}: no pipe", program);
    }
    FileDescriptor read_end(pipe_fds[0]);
    FileDescriptor write_end(pipe_fds[1]);

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    if (feed) {
        ::posix_spawn_file_actions_adddup2(&actions, read_end.get(), 0);
    } else {
        ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    ::posix_spawn_file_actions_adddup2(&actions, output.get(), 1);
    ::posix_spawn_file_actions_adddup2(&actions, output.get(), 2);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned =
        ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        throw Error::format(ErrorKind::not_found, "cannot run {}: {}", program,
                            errno_text(spawned));
    }
    read_end.close();
    std::exception_ptr failure;
    if (feed) {
        IgnoreSigpipe guard;
        try {
            feed(write_end.get());
        } catch (...) {
            failure = std::current_exception();
        }
        write_end.close();
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.output = read_tail(output.get());
    if (failure && result.ok()) {
        std::rethrow_exception(failure);
    }
    return result;
}

}  // namespace ferry::core
