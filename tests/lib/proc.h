/*
 * Real processes for integration tests (STYLE.md 10.5): spawn usherd in its
 * own process group with its output in a log file, find free loopback
 * ports, wait for a port with a bound, kill and reap.
 */
#ifndef USHER_TESTS_LIB_PROC_H
#define USHER_TESTS_LIB_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc {
    pid_t pid;       /* 0 when not running */
    int exit_status; /* as waitpid gives it, once reaped */
    bool reaped;     /* the last process was reaped (exit_status is valid) */
};

/* Returns a TCP port on 127.0.0.1 that was free a moment ago (bind to port
 * 0, read it back, close), never one of the last 256 it returned; 0 if
 * none is found. */
uint16_t proc_free_port(void);

/* Starts argv[0] (a path) with argv in a new process group, stdout and
 * stderr appended to log_path. Returns 0 or -1. */
int proc_spawn(struct proc *p, char *const argv[], const char *log_path);

/* Waits until 127.0.0.1:port accepts a connection, at most timeout_ms, or
 * until the process died. Returns 0 or -1. */
int proc_wait_port(struct proc *p, uint16_t port, int timeout_ms);

/* Waits until GET path on 127.0.0.1:port answers 200, at most timeout_ms,
 * or until the process died. Returns 0 or -1. */
int proc_wait_http_ok(struct proc *p, uint16_t port, const char *path, int timeout_ms);

/* Sends sig to the process group. */
void proc_signal(struct proc *p, int sig);

/* Waits for the process to exit, at most timeout_ms; on timeout kills the
 * group with SIGKILL and reaps it. Returns the exit status as waitpid gives
 * it, or -1 on timeout. */
int proc_wait(struct proc *p, int timeout_ms);

/* SIGKILLs the group (if running) and reaps it. */
void proc_kill(struct proc *p);

/* Path of a built program: $USHER_BUILDDIR/rel, or ./rel. */
const char *proc_build_path(const char *rel, char *out, size_t cap);

#endif
