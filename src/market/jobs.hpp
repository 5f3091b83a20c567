// Long work on threads of its own, recorded in the catalog's jobs table as it goes (queued,
// running with progress, success or failed with the reason), so that the API and the CLI can
// follow it. Pulls, exports and import batches run through one JobRunner each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "market/catalog.hpp"

namespace ferry::market {

// What a job's work sees of its job.
class JobControl {
  public:
    JobControl(Job& job, std::function<bool(const Job&)> save, const std::atomic<bool>& stopping)
        : job_(job), save_(std::move(save)), stopping_(stopping) {}

    Job& job() { return job_; }
    // Records progress, at most four times a second.
    void progress(std::uint64_t done, std::uint64_t total);
    // Records the job as it is now (its detail changed).
    void save();
    // The runner is stopping: the work should end soon (it is recorded as interrupted).
    bool cancelled() const { return stopping_.load(); }

  private:
    Job& job_;
    std::function<bool(const Job&)> save_;
    const std::atomic<bool>& stopping_;
    std::chrono::steady_clock::time_point last_saved_{};
};

class JobRunner {
  public:
    // The work of a job: throws to fail it (the exception's message is the reason).
    using Work = std::function<void(JobControl&)>;

    // Jobs of this kind that a killed server left queued or running are recorded as failed
    // with the interrupted reason. failure_log takes a job state the catalog failed to save.
    JobRunner(Catalog& catalog, std::string kind, std::string interrupted,
              std::function<void(std::string_view)> failure_log = {});
    // Stops: running work is told (JobControl::cancelled) and joined; its job is failed with
    // the interrupted reason.
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Starts work as a job on target, or returns the job already queued or running on it.
    // detail is the job's detail to start with.
    Job start(const std::string& target, Work work, std::string detail = {});
    // Records a job that failed before it could start.
    Job failed(const std::string& target, const std::string& reason);
    // Records a job that had nothing left to do (its result exists already).
    Job finished(const std::string& target, std::string detail);

    // Threads of running jobs (the threads of finished ones are joined first).
    std::size_t threads();
    const std::string& kind() const { return kind_; }

  private:
    struct Worker {
        std::thread thread;
        bool finished = false;  // its work has returned; joining does not wait
    };

    void run(Job job, const Work& work) noexcept;
    bool save(const Job& job, bool log_failure) noexcept;
    void reap_finished();
    std::string new_id();
    Job record(const std::string& target, Job::State state, std::string error, std::string detail);

    Catalog& catalog_;
    std::string kind_;
    std::string interrupted_;
    std::function<void(std::string_view)> failure_log_;
    std::mutex mutex_;
    std::map<std::string, std::string> active_;  // target -> job id
    std::map<std::string, Worker> workers_;      // job id -> its thread
    std::atomic<bool> stopping_{false};
};

}  // namespace ferry::market
