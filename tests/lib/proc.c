/* Process helpers for integration tests (see proc.h). */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Polls run this often while waiting for a process (a bound, not a timing). */
#define PROC_POLL_MS 10

static void pause_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint16_t port_probe(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    (void)close(fd);
    return port;
}

/* Ports handed out lately: the kernel may give a closed port again at
 * once, and a test that asks for three ports must get three. */
#define RECENT_PORTS 256u

uint16_t proc_free_port(void)
{
    static uint16_t recent[RECENT_PORTS];
    static uint32_t next;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint16_t port = port_probe();
        bool seen = false;
        for (uint32_t i = 0; i < RECENT_PORTS && port != 0; i++) {
            seen = seen || recent[i] == port;
        }
        if (port != 0 && !seen) {
            recent[next++ % RECENT_PORTS] = port;
            return port;
        }
    }
    return 0;
}

int proc_spawn(struct proc *p, char *const argv[], const char *log_path)
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        (void)setpgid(0, 0);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            (void)dup2(fd, STDOUT_FILENO);
            (void)dup2(fd, STDERR_FILENO);
            (void)close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    (void)setpgid(pid, pid); /* both sides, so the group exists before any signal */
    p->pid = pid;
    p->reaped = false;
    return 0;
}

static bool alive(struct proc *p)
{
    if (p->pid == 0) {
        return false;
    }
    int status = 0;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        p->pid = 0;
        p->exit_status = status;
        p->reaped = true;
        return false;
    }
    return true;
}

int proc_wait_port(struct proc *p, uint16_t port, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += PROC_POLL_MS) {
        if (!alive(p)) {
            return -1;
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&a, sizeof(a));
        if (fd >= 0) {
            (void)close(fd);
        }
        if (rc == 0) {
            return 0;
        }
        pause_ms(PROC_POLL_MS);
    }
    return -1;
}

/* One GET; returns the HTTP status or -1. */
static int http_get_status(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 2 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    char resp[64] = "";
    int status = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        send(fd, req, (size_t)n, MSG_NOSIGNAL) == n && recv(fd, resp, sizeof(resp) - 1, 0) > 12 &&
        strncmp(resp, "HTTP/1.1 ", 9) == 0) {
        status = (int)strtol(resp + 9, NULL, 10);
    }
    (void)close(fd);
    return status;
}

int proc_wait_http_ok(struct proc *p, uint16_t port, const char *path, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += PROC_POLL_MS) {
        if (!alive(p)) {
            return -1;
        }
        if (http_get_status(port, path) == 200) {
            return 0;
        }
        pause_ms(PROC_POLL_MS);
    }
    return -1;
}

void proc_signal(struct proc *p, int sig)
{
    if (p->pid > 0) {
        (void)kill(-p->pid, sig);
    }
}

int proc_wait(struct proc *p, int timeout_ms)
{
    if (p->pid == 0 && p->reaped) {
        return p->exit_status;
    }
    for (int waited = 0; p->pid > 0 && waited <= timeout_ms; waited += PROC_POLL_MS) {
        int status = 0;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            p->exit_status = status;
            p->reaped = true;
            return status;
        }
        pause_ms(PROC_POLL_MS);
    }
    proc_kill(p);
    return -1;
}

void proc_kill(struct proc *p)
{
    if (p->pid > 0) {
        (void)kill(-p->pid, SIGKILL);
        int status = 0;
        (void)waitpid(p->pid, &status, 0);
        p->pid = 0;
    }
}

const char *proc_build_path(const char *rel, char *out, size_t cap)
{
    const char *dir = getenv("USHER_BUILDDIR");
    (void)snprintf(out, cap, "%s/%s", dir != NULL ? dir : ".", rel);
    return out;
}
