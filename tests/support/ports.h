/*
 * ports.h: a TCP port on 127.0.0.1 that nothing listens on right now (bound, read, closed):
 * for a server a test starts, or for a connection that must be refused. Header-only; include
 * after <cmocka.h>.
 */
#ifndef SPOOR_TEST_PORTS_H
#define SPOOR_TEST_PORTS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

static inline uint16_t loopback_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

#endif
