/* SPDX-License-Identifier: MIT */
/*
 * ubinder-bench-ipc-lib: libubinder round trips against AF_UNIX, measured
 * the same way (bench/lib/ipc-lib.sh runs it and writes the results).
 *
 *   latency ubinder SOCKET SIZE ITERATIONS   median and p99 in microseconds
 *   latency unix SIZE ITERATIONS
 *   throughput ubinder SOCKET SIZE THREADS SECONDS   calls per second
 *   throughput unix SIZE THREADS SECONDS
 *
 * A call carries SIZE bytes (a byte array) and its reply the same bytes
 * back. ubinder: the server is a forked process that becomes the context
 * manager and serves on libubinder's thread pool (up to 16 threads); the
 * client calls it through a proxy, one libubinder thread per client thread.
 * AF_UNIX: a forked server echoes on SOCK_SEQPACKET socket pairs (SOCK_STREAM
 * above 64 KiB), one server thread per client thread. Processes inherit the
 * CPU affinity the bench runs with (taskset -c 0: same core).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ubinder/ubinder.h>

#define WARMUP	    200
#define MAX_THREADS 64

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-ipc-lib: %s: %s\n", what,
		err < 0 ? ubinder_strerror(err) : strerror(err));
	exit(1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_latency(int64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(*ns), cmp_i64);
	printf("%.1f %.1f\n", (double)ns[n / 2] / 1000.0, (double)ns[(n * 99) / 100] / 1000.0);
}

/* --- the two transports behind one interface ---------------------------------------- */

struct peer {
	/* ubinder */
	ubinder_context *ctx;
	ubinder_binder *server;
	ubinder_parcel *request;
	/* unix */
	int fds[MAX_THREADS];
	/* both */
	size_t size;
	pid_t child;
	int stop_fd;
	uint8_t *buf;
};

static int echo_handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
			ubinder_parcel *reply, void *userdata)
{
	const void *bytes;
	size_t len;
	int err;

	(void)self;
	(void)call;
	(void)userdata;
	err = ubinder_parcel_read_byte_array(data, &bytes, &len);
	return err ? err : ubinder_parcel_write_byte_array(reply, bytes, len);
}

/* The ubinder server: the context manager, serving on the pool until told to stop. */
static void ubinder_server(const char *socket, int ready_fd, int stop_fd)
{
	ubinder_context *ctx;
	ubinder_binder *obj = NULL;
	char c = 1;
	int err;

	err = ubinder_context_open(socket, &ctx);
	if (!err)
		err = ubinder_binder_new(ctx, "bench.IEcho", echo_handler, NULL, NULL, &obj);
	if (!err)
		err = ubinder_context_become_manager(ctx, obj);
	if (!err)
		err = ubinder_context_set_max_threads(ctx, 16);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (err)
		die("server", err);
	if (write(ready_fd, &c, 1) != 1 || read(stop_fd, &c, 1) < 0)
		die("server pipe", errno);
	ubinder_binder_unref(obj);
	ubinder_context_close(ctx);
	_exit(0);
}

static void unix_echo(int fd, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	int type = 0;
	socklen_t len = sizeof(type);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	for (;;) {
		size_t got = 0;

		/* SOCK_STREAM: a whole message, however it arrives. */
		do {
			ssize_t n = recv(fd, buf + got, size - got, 0);

			if (n <= 0) {
				free(buf);
				return;
			}
			got += (size_t)n;
		} while (type == SOCK_STREAM && got < size);
		if (size == 0 && got == 0 && type == SOCK_STREAM)
			break;
		if (send(fd, buf, got, MSG_NOSIGNAL) != (ssize_t)got)
			break;
	}
	free(buf);
}

static void *unix_echo_thread(void *arg)
{
	struct peer *p = arg;
	int fd;

	fd = p->fds[0];
	unix_echo(fd, p->size);
	return NULL;
}

static void peer_open(struct peer *p, const char *transport, const char *socket, size_t size,
		      int threads)
{
	int ready[2], stop[2];
	char c;

	memset(p, 0, sizeof(*p));
	p->size = size;
	p->buf = calloc(1, size ? size : 1);
	if (pipe(ready) || pipe(stop))
		die("pipe", errno);
	if (strcmp(transport, "ubinder") == 0) {
		p->child = fork();
		if (p->child == 0) {
			close(ready[0]);
			close(stop[1]);
			ubinder_server(socket, ready[1], stop[0]);
		}
		if (read(ready[0], &c, 1) != 1)
			die("server did not start", EIO);
		int err = ubinder_context_open(socket, &p->ctx);

		if (!err)
			err = ubinder_sm_get(p->ctx, &p->server);
		if (!err && !(p->request = ubinder_parcel_new()))
			err = UBINDER_ERR_NO_MEMORY;
		if (!err)
			err = ubinder_parcel_write_byte_array(p->request, p->buf, size);
		if (err)
			die("client", err);
	} else {
		int pairs[MAX_THREADS][2];
		int type = size > 65536 ? SOCK_STREAM : SOCK_SEQPACKET;

		for (int i = 0; i < threads; i++) {
			int bufsize = (int)(2 * size + 65536);

			if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pairs[i]))
				die("socketpair", errno);
			setsockopt(pairs[i][0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
			setsockopt(pairs[i][1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
		}
		p->child = fork();
		if (p->child == 0) {
			pthread_t tids[MAX_THREADS];
			struct peer per[MAX_THREADS];

			for (int i = 0; i < threads; i++) {
				close(pairs[i][0]);
				per[i] = *p;
				per[i].fds[0] = pairs[i][1];
				pthread_create(&tids[i], NULL, unix_echo_thread, &per[i]);
			}
			c = 1;
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			for (int i = 0; i < threads; i++)
				pthread_join(tids[i], NULL);
			_exit(0);
		}
		for (int i = 0; i < threads; i++) {
			close(pairs[i][1]);
			p->fds[i] = pairs[i][0];
		}
		if (read(ready[0], &c, 1) != 1)
			die("server did not start", EIO);
	}
	close(ready[0]);
	close(ready[1]);
	close(stop[0]);
	p->stop_fd = stop[1];
}

static void peer_close(struct peer *p, int threads)
{
	int status;

	if (p->ctx) {
		ubinder_parcel_free(p->request);
		ubinder_binder_unref(p->server);
		ubinder_context_close(p->ctx);
	}
	for (int i = 0; i < threads && !p->ctx; i++) {
		shutdown(p->fds[i], SHUT_RDWR);
		close(p->fds[i]);
	}
	close(p->stop_fd);
	waitpid(p->child, &status, 0);
	free(p->buf);
}

/* One round trip on client thread @i. */
static void call(struct peer *p, int i)
{
	if (p->ctx) {
		ubinder_parcel *reply;
		const void *bytes;
		size_t len;
		int err = ubinder_binder_transact(p->server, 1, p->request, 0, &reply);

		if (!err)
			err = ubinder_parcel_read_byte_array(reply, &bytes, &len);
		if (!err && len != p->size)
			err = UBINDER_ERR_BAD_VALUE;
		if (err)
			die("call", err);
		ubinder_parcel_free(reply);
	} else {
		int fd = p->fds[i];
		size_t got = 0;

		if (send(fd, p->buf, p->size, MSG_NOSIGNAL) != (ssize_t)p->size)
			die("send", errno);
		do {
			ssize_t n =
				recv(fd, p->buf + (p->size > 65536 ? got : 0), p->size - got, 0);

			if (n <= 0)
				die("recv", n ? errno : EPIPE);
			got += (size_t)n;
		} while (got < p->size);
	}
}

/* --- measurements ---------------------------------------------------------------------- */

static int latency(const char *transport, const char *socket, size_t size, size_t iterations)
{
	int64_t *ns = calloc(iterations, sizeof(*ns));
	struct peer p;

	peer_open(&p, transport, socket, size, 1);
	for (int i = 0; i < WARMUP; i++)
		call(&p, 0);
	for (size_t i = 0; i < iterations; i++) {
		int64_t t0 = now_ns();

		call(&p, 0);
		ns[i] = now_ns() - t0;
	}
	peer_close(&p, 1);
	print_latency(ns, iterations);
	free(ns);
	return 0;
}

struct worker {
	struct peer *p;
	int index;
	int64_t seconds;
	pthread_barrier_t *start;
	uint64_t calls;
	int64_t elapsed;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t t0, deadline;

	for (int i = 0; i < WARMUP; i++)
		call(w->p, w->index);
	pthread_barrier_wait(w->start);
	t0 = now_ns();
	deadline = t0 + w->seconds * 1000000000;
	do {
		for (int i = 0; i < 32; i++)
			call(w->p, w->index);
		w->calls += 32;
	} while (now_ns() < deadline);
	w->elapsed = now_ns() - t0;
	return NULL;
}

static int throughput(const char *transport, const char *socket, size_t size, int threads,
		      int seconds)
{
	struct worker w[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	pthread_barrier_t start;
	struct peer p;
	double rate = 0;

	if (threads < 1 || threads > MAX_THREADS)
		die("threads", EINVAL);
	peer_open(&p, transport, socket, size, threads);
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ .p = &p, .index = i, .seconds = seconds, .start = &start };
		pthread_create(&tids[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		rate += (double)w[i].calls * 1e9 / (double)w[i].elapsed;
	}
	pthread_barrier_destroy(&start);
	peer_close(&p, threads);
	printf("%.0f\n", rate);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && !strcmp(argv[1], "latency") && !strcmp(argv[2], "ubinder"))
		return latency("ubinder", argv[3], strtoul(argv[4], NULL, 0),
			       strtoul(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "latency") && !strcmp(argv[2], "unix"))
		return latency("unix", NULL, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	if (argc == 7 && !strcmp(argv[1], "throughput") && !strcmp(argv[2], "ubinder"))
		return throughput("ubinder", argv[3], strtoul(argv[4], NULL, 0), atoi(argv[5]),
				  atoi(argv[6]));
	if (argc == 6 && !strcmp(argv[1], "throughput") && !strcmp(argv[2], "unix"))
		return throughput("unix", NULL, strtoul(argv[3], NULL, 0), atoi(argv[4]),
				  atoi(argv[5]));
	fprintf(stderr,
		"usage: %s latency ubinder SOCKET SIZE ITERATIONS\n"
		"       %s latency unix SIZE ITERATIONS\n"
		"       %s throughput ubinder SOCKET SIZE THREADS SECONDS\n"
		"       %s throughput unix SIZE THREADS SECONDS\n",
		argv[0], argv[0], argv[0], argv[0]);
	return 2;
}
