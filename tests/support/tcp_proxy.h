/*
 * tcp_proxy.h: a small fault-injecting TCP proxy for integration tests whose subject is an
 * endpoint outage (STYLE.md allows one where the test is about a fault). Header-only.
 *
 * One thread forwards bytes both ways between clients on 127.0.0.1:<port> and an upstream
 * 127.0.0.1:<upstream port>. tcp_proxy_stop() closes the listener and every connection, so new
 * connections are refused (RST) and requests in flight fail; tcp_proxy_start() listens again on
 * the same port. It is not a general proxy: writes block, which is enough for HTTP/1.1 request
 * and response traffic between one client and one server.
 *
 * Control: the caller writes a command byte into a pipe; the thread does it and writes back an
 * int result, so every call has finished when it returns.
 */
#ifndef SPOOR_TEST_TCP_PROXY_H
#define SPOOR_TEST_TCP_PROXY_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_PROXY_MAX_CONNS 128

struct tcp_proxy {
    pthread_t thread;
    int ctl[2], reply[2]; /* command pipe to the thread, result pipe back */
    int listen_fd;        /* -1 while stopped */
    uint16_t port;        /* where clients connect; the same across stop/start */
    uint16_t upstream_port;
    int conns[TCP_PROXY_MAX_CONNS][2]; /* client fd, upstream fd */
    size_t nconns;
    uint64_t accepted; /* connections accepted so far (read it while the proxy is stopped) */
};

static inline int tcp_proxy_listen(struct tcp_proxy *p)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    p->listen_fd = fd;
    p->port = ntohs(a.sin_port);
    return 0;
}

static inline void tcp_proxy_drop(struct tcp_proxy *p, size_t i)
{
    close(p->conns[i][0]);
    close(p->conns[i][1]);
    p->conns[i][0] = p->conns[--p->nconns][0];
    p->conns[i][1] = p->conns[p->nconns][1];
}

static inline void tcp_proxy_close_all(struct tcp_proxy *p)
{
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    p->listen_fd = -1;
    while (p->nconns > 0)
        tcp_proxy_drop(p, 0);
}

static inline void tcp_proxy_accept(struct tcp_proxy *p)
{
    int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p->upstream_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (u < 0 || p->nconns == TCP_PROXY_MAX_CONNS ||
        connect(u, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c);
        if (u >= 0)
            close(u);
        return;
    }
    p->conns[p->nconns][0] = c;
    p->conns[p->nconns][1] = u;
    p->nconns++;
    p->accepted++;
}

/* Moves what one side has to the other; false when the connection is over. */
static inline bool tcp_proxy_pump(int from, int to)
{
    char buf[65536];
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        off += w;
    }
    return true;
}

/* Runs one command byte; returns its result, or 1 for quit. */
static inline int tcp_proxy_command(struct tcp_proxy *p, char cmd)
{
    switch (cmd) {
    case 's':
        tcp_proxy_close_all(p);
        return 0;
    case 'l':
        return p->listen_fd >= 0 ? 0 : tcp_proxy_listen(p);
    default:
        tcp_proxy_close_all(p);
        return 1;
    }
}

static inline void *tcp_proxy_main(void *arg)
{
    struct tcp_proxy *p = arg;
    struct pollfd fds[2 + 2 * TCP_PROXY_MAX_CONNS];
    for (;;) {
        size_t n = 0, first_conn;
        fds[n++] = (struct pollfd){.fd = p->ctl[0], .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN}; /* -1: ignored */
        first_conn = n;
        for (size_t i = 0; i < p->nconns; i++) {
            fds[n++] = (struct pollfd){.fd = p->conns[i][0], .events = POLLIN};
            fds[n++] = (struct pollfd){.fd = p->conns[i][1], .events = POLLIN};
        }
        if (poll(fds, n, -1) < 0)
            continue;
        if (fds[0].revents) {
            char cmd = 'q';
            if (read(p->ctl[0], &cmd, 1) != 1)
                cmd = 'q';
            int rc = tcp_proxy_command(p, cmd);
            int back = rc == 1 ? 0 : rc;
            if (write(p->reply[1], &back, sizeof back) != sizeof back || rc == 1)
                return NULL;
            continue; /* the descriptors may have changed */
        }
        /* Connections from the end, so that dropping one moves only those already seen. */
        for (size_t i = p->nconns; i-- > 0;) {
            short in = fds[first_conn + 2 * i].revents, out = fds[first_conn + 2 * i + 1].revents;
            bool alive = true;
            if (in)
                alive = tcp_proxy_pump(p->conns[i][0], p->conns[i][1]);
            if (alive && out)
                alive = tcp_proxy_pump(p->conns[i][1], p->conns[i][0]);
            if (!alive)
                tcp_proxy_drop(p, i);
        }
        if (fds[1].revents)
            tcp_proxy_accept(p);
    }
}

static inline int tcp_proxy_call(struct tcp_proxy *p, char cmd)
{
    int rc = -EIO;
    if (write(p->ctl[1], &cmd, 1) != 1 || read(p->reply[0], &rc, sizeof rc) != sizeof rc)
        return -EIO;
    return rc;
}

/* Listens on 127.0.0.1 at a free port (p->port) and forwards to upstream_port. */
static inline int tcp_proxy_new(struct tcp_proxy *p, uint16_t upstream_port)
{
    memset(p, 0, sizeof *p);
    p->listen_fd = -1;
    p->upstream_port = upstream_port;
    p->ctl[0] = p->ctl[1] = p->reply[0] = p->reply[1] = -1;
    if (pipe2(p->ctl, O_CLOEXEC) != 0 || pipe2(p->reply, O_CLOEXEC) != 0 ||
        tcp_proxy_listen(p) != 0 || pthread_create(&p->thread, NULL, tcp_proxy_main, p) != 0) {
        for (int i = 0; i < 2; i++) {
            if (p->ctl[i] >= 0)
                close(p->ctl[i]);
            if (p->reply[i] >= 0)
                close(p->reply[i]);
        }
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        return -EIO;
    }
    return 0;
}

/* Closes the listener and every connection: connecting is refused until tcp_proxy_start. */
static inline int tcp_proxy_stop(struct tcp_proxy *p)
{
    return tcp_proxy_call(p, 's');
}

/* Listens again on the same port. */
static inline int tcp_proxy_start(struct tcp_proxy *p)
{
    return tcp_proxy_call(p, 'l');
}

static inline void tcp_proxy_free(struct tcp_proxy *p)
{
    tcp_proxy_call(p, 'q');
    pthread_join(p->thread, NULL);
    close(p->ctl[0]), close(p->ctl[1]), close(p->reply[0]), close(p->reply[1]);
}

#endif
