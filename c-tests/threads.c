/* Several threads on the same and on different SCTP sockets at once: one
 * thread accepts 4 associations and starts an echo thread for each; 4 client
 * threads each push 1 MiB through their own association and check the echo;
 * meanwhile two threads share one socket, one writing and one reading. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)
#define CLIENTS 4
#define BYTES (1 << 20)

static struct sockaddr_in addr;

static void *echo(void *arg) {
    int c = (int)(long)arg;
    char buf[8192];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            CHECK(w > 0);
            off += w;
        }
    close(c);
    return NULL;
}

static void *acceptor(void *arg) {
    int l = (int)(long)arg;
    for (int i = 0; i < CLIENTS + 1; i++) {
        int c = accept(l, NULL, NULL);
        CHECK(c >= 0);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, echo, (void *)(long)c) == 0);
        pthread_detach(t);
    }
    return NULL;
}

static int dial(void) {
    int s = socket(AF_INET, SOCK_STREAM, 132);
    CHECK(s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0);
    return s;
}

struct shared { int fd; unsigned char *out; };

static void *writer(void *arg) {
    struct shared *sh = arg;
    for (size_t off = 0; off < BYTES;) {
        ssize_t w = write(sh->fd, sh->out + off, BYTES - off < 4096 ? BYTES - off : 4096);
        CHECK(w > 0);
        off += (size_t)w;
    }
    return NULL;
}

static void *client(void *arg) {
    unsigned seed = (unsigned)(long)arg;
    unsigned char *out = malloc(BYTES), *in = malloc(BYTES);
    CHECK(out && in);
    for (size_t i = 0; i < BYTES; i++) out[i] = (unsigned char)(rand_r(&seed));
    struct shared sh = { dial(), out };
    /* One thread writes while this one reads the same socket. */
    pthread_t w;
    CHECK(pthread_create(&w, NULL, writer, &sh) == 0);
    for (size_t got = 0; got < BYTES;) {
        ssize_t r = read(sh.fd, in + got, BYTES - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
    CHECK(pthread_join(w, NULL) == 0);
    CHECK(memcmp(in, out, BYTES) == 0);
    close(sh.fd);
    free(out);
    free(in);
    return NULL;
}

int main(void) {
    int l = socket(AF_INET, SOCK_STREAM, 132);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(l, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(l, 16) == 0);
    socklen_t al = sizeof addr;
    CHECK(getsockname(l, (struct sockaddr *)&addr, &al) == 0);
    pthread_t acc, cl[CLIENTS + 1];
    CHECK(pthread_create(&acc, NULL, acceptor, (void *)(long)l) == 0);
    for (long i = 0; i < CLIENTS + 1; i++) CHECK(pthread_create(&cl[i], NULL, client, (void *)(i + 1)) == 0);
    for (int i = 0; i < CLIENTS + 1; i++) CHECK(pthread_join(cl[i], NULL) == 0);
    CHECK(pthread_join(acc, NULL) == 0);
    close(l);
    printf("threads: ok\n");
    return 0;
}
