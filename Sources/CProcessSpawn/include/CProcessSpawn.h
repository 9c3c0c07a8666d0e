// Starting flow run processes: the fork/exec sequence the process executor needs, written
// in C because the child side must only make async-signal-safe calls. See spawn.c.
#ifndef DROVER_CPROCESSSPAWN_H
#define DROVER_CPROCESSSPAWN_H

#include <sys/types.h>

/// The step of `drover_spawn` that failed, reported through `failed_step_out`.
enum {
    /// Creating the pipe the child reports exec failures on.
    DROVER_SPAWN_STEP_REPORT_PIPE = 1,
    /// fork(2) itself (EAGAIN: too many processes, ENOMEM).
    DROVER_SPAWN_STEP_FORK = 2,
    /// setpgid(0, 0) in the child.
    DROVER_SPAWN_STEP_PROCESS_GROUP = 3,
    /// prctl(PR_SET_PDEATHSIG) in the child.
    DROVER_SPAWN_STEP_PARENT_DEATH_SIGNAL = 4,
    /// Opening /dev/null or moving the output descriptors into place.
    DROVER_SPAWN_STEP_STANDARD_STREAMS = 5,
    /// chdir(cwd) in the child: the working directory is missing or not accessible.
    DROVER_SPAWN_STEP_WORKING_DIRECTORY = 6,
    /// execve(path) in the child.
    DROVER_SPAWN_STEP_EXEC = 7,
};

/// Starts `path` with exactly `argv` and `envp` as a new process in a process group of its
/// own, with stdin from /dev/null and stdout/stderr on `stdout_fd`/`stderr_fd`.
///
/// The child gets the default disposition for every signal and an empty signal mask, whatever
/// the caller ignores or blocks, and SIGKILL as its parent-death signal. Descriptors of the
/// caller other than 0, 1 and 2 are not inherited (they are marked close-on-exec in the child).
///
/// Returns 0 once the child has called execve successfully, with its pid in `*pid_out`.
/// Returns -1 when any step failed, with the step in `*failed_step_out` and errno in
/// `*child_errno_out`; a child that was forked has then already been reaped.
///
/// PR_SET_PDEATHSIG fires when the *thread* that called `drover_spawn` exits, not when the
/// process does: call it on a thread that outlives the child (the supervising thread).
int drover_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, pid_t *pid_out, int *child_errno_out,
                 int *failed_step_out);

/// pipe2(fds, O_CLOEXEC), plus O_NONBLOCK on both ends when `nonblocking` is non-zero.
/// Returns 0, or -1 with errno set.
int drover_pipe(int fds[2], int nonblocking);

/// A pidfd for `pid` (pidfd_open(2)): readable once the process has exited. Returns -1 with
/// errno set where the kernel lacks pidfds (ENOSYS); callers then poll with
/// `drover_child_has_exited`.
int drover_pidfd_open(pid_t pid);

/// Whether the child `pid` has exited, without reaping it (waitid with WNOWAIT), so its pid
/// and process group id stay reserved until `drover_reap`. Returns 1 if it has exited, 0 if it
/// is still running, -1 with errno set on error (ECHILD: not our child, or already reaped).
int drover_child_has_exited(pid_t pid);

/// Reaps the child `pid`, blocking until it exits. Returns 0 with `*signaled_out` = 0 and
/// `*value_out` = the exit code, or `*signaled_out` = 1 and `*value_out` = the signal number;
/// -1 with errno set on error.
int drover_reap(pid_t pid, int *signaled_out, int *value_out);

/// Starts a detached guard that SIGKILLs `process_group` if this process dies before
/// `drover_release_group_guard` is called. Returns the guard's descriptor, or -1 (errno set).
int drover_start_group_guard(pid_t process_group);

/// Tells the guard the run ended normally (it exits without killing) and closes `guard_fd`.
void drover_release_group_guard(int guard_fd);

#endif
