// The fork/exec sequence for flow run processes.
//
// Between fork and execve the child of a multi-threaded process may only make
// async-signal-safe calls: no malloc, no locks, no Swift. Everything the child needs is
// prepared by the parent before the fork, and the child reports failures as two ints (step,
// errno) on a close-on-exec pipe: end of file on that pipe means execve succeeded.

#include "CProcessSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <features.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct spawn_report {
    int step;
    int error;
};

/// fork(2) without running pthread_atfork handlers where glibc offers it (_Fork, 2.34+):
/// handlers registered by libraries of a multi-threaded process are not async-signal-safe.
static pid_t drover_fork(void) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
    return _Fork();
#else
    return fork();
#endif
}

/// Child side: reports `step` and the current errno to the parent, then exits.
static void child_fail(int report_fd, int step) {
    struct spawn_report report = {step, errno};
    ssize_t written;
    do {
        written = write(report_fd, &report, sizeof report);
    } while (written < 0 && errno == EINTR);
    _exit(127);
}

/// Child side: returns a descriptor for `fd` that is not 0, 1 or 2, so the dup2 calls that
/// set up the standard streams cannot overwrite it.
static int above_standard_streams(int fd) {
    if (fd > STDERR_FILENO) return fd;
    return fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
}

/// Child side; never returns. Only async-signal-safe calls from here on.
static void run_child(const char *path, char *const argv[], char *const envp[], const char *cwd,
                      int stdout_fd, int stderr_fd, pid_t parent, int report_fd) {
    // Every signal back to its default disposition while all signals are still blocked
    // (the parent blocked them before forking), so no handler of the worker can run here
    // and a worker that ignores SIGINT (started with `&` from a script) or SIGPIPE does not
    // pass that on. SIGKILL and SIGSTOP cannot be changed; glibc's internal signals refuse.
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        (void)sigaction(signal_number, &default_action, NULL);
    }

    // A process group of its own, so the worker can signal the run and everything it starts.
    if (setpgid(0, 0) != 0) child_fail(report_fd, DROVER_SPAWN_STEP_PROCESS_GROUP);

    // Die with the worker. The signal is tied to the thread that forked (see the header);
    // if the parent is already gone, the signal was missed: stop now.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(report_fd, DROVER_SPAWN_STEP_PARENT_DEATH_SIGNAL);
    if (getppid() != parent) _exit(127);

    stdout_fd = above_standard_streams(stdout_fd);
    if (stdout_fd < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);
    stderr_fd = above_standard_streams(stderr_fd);
    if (stderr_fd < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);
    if (dup2(null_fd, STDIN_FILENO) < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);
    if (dup2(stdout_fd, STDOUT_FILENO) < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);
    if (dup2(stderr_fd, STDERR_FILENO) < 0) child_fail(report_fd, DROVER_SPAWN_STEP_STANDARD_STREAMS);

    // Nothing else of the worker's (sockets, store files, other runs' pipes) reaches the run.
    // Best effort: kernels before 5.11 lack the flag, and the worker's own descriptors are
    // close-on-exec already.
#ifdef SYS_close_range
    (void)syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
#endif

    if (cwd != NULL && chdir(cwd) != 0) child_fail(report_fd, DROVER_SPAWN_STEP_WORKING_DIRECTORY);

    sigset_t no_signals;
    sigemptyset(&no_signals);
    (void)sigprocmask(SIG_SETMASK, &no_signals, NULL);

    execve(path, argv, envp);
    child_fail(report_fd, DROVER_SPAWN_STEP_EXEC);
}

int drover_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, pid_t *pid_out, int *child_errno_out,
                 int *failed_step_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *child_errno_out = errno;
        *failed_step_out = DROVER_SPAWN_STEP_REPORT_PIPE;
        return -1;
    }

    // Block every signal across the fork: the child must not run a handler of the worker
    // before it has reset the dispositions.
    sigset_t all_signals, previous_mask;
    sigfillset(&all_signals);
    pthread_sigmask(SIG_SETMASK, &all_signals, &previous_mask);

    pid_t parent = getpid();
    pid_t pid = drover_fork();
    if (pid == 0) {
        close(report[0]);
        run_child(path, argv, envp, cwd, stdout_fd, stderr_fd, parent, report[1]);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous_mask, NULL);
    close(report[1]);

    if (pid < 0) {
        close(report[0]);
        *child_errno_out = fork_errno;
        *failed_step_out = DROVER_SPAWN_STEP_FORK;
        return -1;
    }

    // Also set the group from the parent, so it is in place before this function returns
    // even if the child has not run yet. EACCES (the child already called execve) and
    // ESRCH (it already exited) are fine: the child did it itself.
    (void)setpgid(pid, pid);

    struct spawn_report failure;
    ssize_t got;
    do {
        got = read(report[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    int read_errno = errno;
    close(report[0]);

    if (got == 0) {
        *pid_out = pid;
        return 0;
    }

    // The child failed before or at execve and is exiting: reap it.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (got == (ssize_t)sizeof failure) {
        *failed_step_out = failure.step;
        *child_errno_out = failure.error;
    } else {
        *failed_step_out = DROVER_SPAWN_STEP_EXEC;
        *child_errno_out = got < 0 ? read_errno : EIO;
    }
    return -1;
}

int drover_pipe(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

int drover_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int drover_child_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int result;
    do {
        result = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    return info.si_pid != 0 ? 1 : 0;
}

int drover_reap(pid_t pid, int *signaled_out, int *value_out) {
    int status;
    pid_t result;
    do {
        result = waitpid(pid, &status, 0);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    if (WIFSIGNALED(status)) {
        *signaled_out = 1;
        *value_out = WTERMSIG(status);
    } else {
        *signaled_out = 0;
        *value_out = WEXITSTATUS(status);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Group guard: a run's processes die with their worker.
//
// The parent-death signal reaches only the direct child (`sh`); what it started would
// outlive a worker killed with SIGKILL. So each run also gets a guard: a tiny detached
// process (double-forked, so init reaps it, and in a session of its own, so a terminal's
// Ctrl-C does not reach it) blocked reading a pipe whose only write end the worker holds.
// When the worker dies, the kernel closes that end; the guard reads end-of-file and
// SIGKILLs the run's process group. When the run ends normally, the worker writes one byte
// first (drover_release_group_guard) and the guard leaves quietly.

int drover_start_group_guard(pid_t process_group) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    sigset_t all_signals, previous_mask;
    sigfillset(&all_signals);
    pthread_sigmask(SIG_SETMASK, &all_signals, &previous_mask);
    pid_t middle = drover_fork();
    if (middle == 0) {
        if (drover_fork() != 0) _exit(0);
        // The guard. Signals stay blocked: only SIGKILL ends it early.
        (void)setsid();
        int keep = fds[0];
        for (int fd = 0; fd < 1024; fd++) {
            if (fd != keep) (void)close(fd);
        }
#ifdef SYS_close_range
        (void)syscall(SYS_close_range, 1024U, ~0U, 0);
#endif
        char byte;
        ssize_t got;
        do {
            got = read(keep, &byte, 1);
        } while (got < 0 && errno == EINTR);
        if (got == 0) (void)kill(-process_group, SIGKILL);
        _exit(0);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous_mask, NULL);
    close(fds[0]);
    if (middle < 0) {
        close(fds[1]);
        errno = fork_errno;
        return -1;
    }
    int status;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {}
    return fds[1];
}

void drover_release_group_guard(int guard_fd) {
    if (guard_fd < 0) return;
    char byte = 1;
    ssize_t wrote;
    do {
        wrote = write(guard_fd, &byte, 1);
    } while (wrote < 0 && errno == EINTR);
    close(guard_fd);
}
