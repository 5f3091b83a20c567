#include "market/jobs.hpp"

#include <fmt/format.h>

#include <system_error>

#include "core/error.hpp"

namespace ferry::market {

void JobControl::progress(std::uint64_t done, std::uint64_t total) {
    job_.done = done;
    job_.total = total;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_saved_ > std::chrono::milliseconds(250)) {
        save_(job_);
        last_saved_ = now;
    }
}

void JobControl::save() {
    save_(job_);
    last_saved_ = std::chrono::steady_clock::now();
}

JobRunner::JobRunner(Catalog& catalog, std::string kind, std::string interrupted,
                     std::function<void(std::string_view)> failure_log)
    : catalog_(catalog),
      kind_(std::move(kind)),
      interrupted_(std::move(interrupted)),
      failure_log_(std::move(failure_log)) {
    for (Job job : catalog_.list_jobs(1000)) {
        if (job.kind == kind_ &&
            (job.state == Job::State::queued || job.state == Job::State::running)) {
            job.state = Job::State::failed;
            job.error = interrupted_;
            catalog_.save_job(job);
        }
    }
}

JobRunner::~JobRunner() {
    stopping_ = true;
    std::map<std::string, Worker> workers;
    {
        std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    // Joined without the lock: a finishing run() takes it to record its end.
    for (auto& [id, worker] : workers) {
        worker.thread.join();
    }
}

std::size_t JobRunner::threads() {
    std::lock_guard lock(mutex_);
    reap_finished();
    return workers_.size();
}

void JobRunner::reap_finished() {
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->second.finished) {
            // The thread set finished as its last step under this lock: it is ending.
            it->second.thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

std::string JobRunner::new_id() {
    static std::atomic<unsigned> counter{0};
    return fmt::format("{}-{}-{}", kind_,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count(),
                       counter++);
}

Job JobRunner::record(const std::string& target, Job::State state, std::string error,
                      std::string detail) {
    Job job;
    job.id = new_id();
    job.kind = kind_;
    job.target = target;
    job.state = state;
    job.error = std::move(error);
    job.detail = std::move(detail);
    catalog_.save_job(job);
    return *catalog_.find_job(job.id);
}

Job JobRunner::failed(const std::string& target, const std::string& reason) {
    return record(target, Job::State::failed, reason, {});
}

Job JobRunner::finished(const std::string& target, std::string detail) {
    return record(target, Job::State::success, {}, std::move(detail));
}

Job JobRunner::start(const std::string& target, Work work, std::string detail) {
    std::lock_guard lock(mutex_);
    reap_finished();
    if (auto active = active_.find(target); active != active_.end()) {
        // A job that has just recorded its end but not yet left active_ is not joined: the
        // caller saw it end and asks again.
        if (auto job = catalog_.find_job(active->second);
            job && (job->state == Job::State::queued || job->state == Job::State::running)) {
            return *job;
        }
    }
    Job job;
    job.id = new_id();
    job.kind = kind_;
    job.target = target;
    job.state = Job::State::queued;
    job.detail = std::move(detail);
    catalog_.save_job(job);
    active_[target] = job.id;
    // run() records its end under mutex_, which this holds: the worker is in the map by then.
    try {
        workers_[job.id].thread = std::thread(
            [this, job, work = std::move(work)]() mutable { run(std::move(job), work); });
    } catch (const std::system_error& e) {
        active_.erase(target);
        workers_.erase(job.id);
        job.state = Job::State::failed;
        job.error = fmt::format("cannot start a thread for the job: {}", e.what());
        catalog_.save_job(job);
        throw Error(job.error, ErrorKind::internal);
    }
    return *catalog_.find_job(job.id);
}

void JobRunner::run(Job job, const Work& work) noexcept {
    // Nothing may leave this function: an exception out of a thread ends the server. A failing
    // catalog (busy past its timeout, a full disk) only costs the job's record.
    job.state = Job::State::running;
    save(job, false);
    try {
        JobControl control(
            job, [this](const Job& j) { return save(j, false); }, stopping_);
        work(control);
        job.state = Job::State::success;
        job.done = job.total;
    } catch (const std::exception& e) {
        job.state = Job::State::failed;
        // A stop cuts the work wherever it is.
        job.error = stopping_ ? interrupted_ : e.what();
    } catch (...) {
        job.state = Job::State::failed;
        job.error = "an exception of unknown type";
    }
    // The end is worth a retry: a catalog busy with another writer frees up soon.
    constexpr int attempts = 3;
    for (int attempt = 1; !save(job, attempt == attempts) && attempt < attempts; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));  // back-off
    }
    std::lock_guard lock(mutex_);
    active_.erase(job.target);
    if (auto worker = workers_.find(job.id); worker != workers_.end()) {
        worker->second.finished = true;
    }
}

bool JobRunner::save(const Job& job, bool log_failure) noexcept {
    try {
        catalog_.save_job(job);
        return true;
    } catch (const std::exception& e) {
        if (log_failure && failure_log_) {
            try {
                failure_log_(fmt::format("{} job {} ({}, {}): cannot record its state: {}", kind_,
                                         job.id, job.target, to_string(job.state), e.what()));
            } catch (...) {
                // The log failing as well leaves nothing else to tell.
            }
        }
        return false;
    }
}

}  // namespace ferry::market
