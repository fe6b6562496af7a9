/*
 * The floor of `spindle bench echo`: the least CPU any echo server can spend per round trip on
 * this machine. One thread, level-triggered epoll, and for each readable connection one read()
 * and one write() of the same bytes upper-cased — the two system calls every server needs per
 * message, and nothing else: no framework, no buffers to manage, no backpressure, no timeouts.
 * It is a measuring instrument, not a server to use (a short write closes the connection).
 *
 * Usage: echo_floor [PORT]   (0, the default, picks a free port)
 * Prints `listening on 127.0.0.1:PORT` once it listens; SIGTERM stops it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int one = 1;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1024) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("echo_floor: cannot listen");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);

    int poller = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event ready[256];
    unsigned char buffer[4096];
    for (;;) {
        int count = epoll_wait(poller, ready, 256, -1);
        for (int i = 0; i < count; i++) {
            int fd = ready[i].data.fd;
            if (fd == listener) {
                int connection;
                while ((connection = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event added = {.events = EPOLLIN, .data.fd = connection};
                    epoll_ctl(poller, EPOLL_CTL_ADD, connection, &added);
                }
                continue;
            }
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) {
                close(fd);
                continue;
            }
            for (ssize_t j = 0; j < n; j++) {
                if ((unsigned char)(buffer[j] - 'a') < 26) buffer[j] -= 32;
            }
            if (write(fd, buffer, (size_t)n) != n) close(fd);
        }
    }
}
