/* SPDX-License-Identifier: MIT */
/*
 * ubinder-bench-pages: what region pages cost a call, and how fast reclaim
 * gives them back, against a running ubinderd (bench/memory.sh starts it,
 * with and without --huge-pages, and writes bench/results/memory.md).
 *
 *   calls SOCKET SIZE ROUNDS      a call of SIZE bytes into the echo manager's
 *                                 4 MiB region that needs fresh pages (the
 *                                 LRU emptied before it) against one that
 *                                 reuses the pages the last call left on the
 *                                 LRU: median microseconds of each, their
 *                                 ratio, and the region's resident KiB
 *   reclaim SOCKET ROUNDS         fills the LRU (a 3.5 MiB call) and times
 *                                 `shrink all` on the admin channel: base
 *                                 pages per second, median of ROUNDS
 *   timeline SOCKET PRESSURE_CMD  samples the daemon's resident, active and
 *                                 lru pages every 20 ms through a burst (4
 *                                 clients, calls of 4 KiB to 3 MiB), a quiet
 *                                 second, PRESSURE_CMD (sh -c; the script's
 *                                 page-cache thrasher in a limited memory
 *                                 cgroup), a second burst, and the idle decay
 *                                 that follows (5 s): "ms resident active lru
 *                                 phase" lines
 *
 * The calls are raw Binder calls through the transport (the integration
 * tests' harness), timed from BC_TRANSACTION to BR_REPLY in one client
 * process that stays open; the echo manager replies with 4 KiB at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "harness.h"
#include "wire/packet.h"

#define MIB ((size_t)1 << 20)

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-pages: %s\n", what);
	exit(1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	return v[n / 2];
}

/* One call of @size bytes from the open client @c: the BR_ code ending it. */
static uint32_t try_call(struct rc *c, const uint8_t *data, size_t size)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;

	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, size, NULL, 0);
	if (rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL) != 0 || rc_wait_for(c, &cmd, &tr) != 0)
		die("the client lost its connection");
	if (cmd != BR_REPLY)
		return cmd;
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	if (rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL) != 0)
		die("BC_FREE_BUFFER failed");
	return cmd;
}

/* A call that must succeed; returns its nanoseconds, to the reply read. */
static int64_t timed_call(struct rc *c, const uint8_t *data, size_t size)
{
	int64_t t0 = now_ns();

	if (try_call(c, data, size) != BR_REPLY)
		die("the call failed");
	return now_ns() - t0;
}

static void shrink_all(const struct ubd *d)
{
	free(ubd_admin(d, UBW_ADMIN_SHRINK, -1, NULL));
}

/* The echo manager as its own process, and a client of it in this one. */
struct setup {
	struct ubd d;
	struct echo_manager m;
	struct rc c;
	uint8_t *data;
};

static void setup_open(struct setup *s, const char *sock, size_t size)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->d.sock, sizeof(s->d.sock), "%s", sock);
	echo_start(&s->m, sock);
	if (rc_open(&s->c, sock, MIB) != 0)
		die("cannot open a client");
	s->data = malloc(size);
	if (!s->data)
		die("out of memory");
	for (size_t i = 0; i < size; i++)
		s->data[i] = (uint8_t)(i ^ (i >> 8));
}

static void setup_close(struct setup *s)
{
	rc_close(&s->c);
	echo_stop(&s->m, s->d.sock);
	free(s->data);
}

static int run_calls(const char *sock, size_t size, size_t rounds)
{
	int64_t *fresh = calloc(rounds, sizeof(int64_t)), *reuse = calloc(rounds, sizeof(int64_t));
	struct setup s;
	long resident;

	if (!fresh || !reuse)
		die("out of memory");
	setup_open(&s, sock, size);
	for (size_t i = 0; i < 3; i++)
		timed_call(&s.c, s.data, size); /* warm up */
	for (size_t i = 0; i < rounds; i++) {
		shrink_all(&s.d);
		fresh[i] = timed_call(&s.c, s.data, size);
		reuse[i] = timed_call(&s.c, s.data, size);
	}
	resident = ubd_proc_stat(&s.d, s.m.pid, "resident pages");
	printf("calls size %zu fresh_us %.1f reuse_us %.1f ratio %.2f resident_kib %ld page_size "
	       "%ld\n",
	       size, (double)median(fresh, rounds) / 1000, (double)median(reuse, rounds) / 1000,
	       (double)median(fresh, rounds) / (double)median(reuse, rounds), resident * 4,
	       ubd_proc_stat(&s.d, s.m.pid, "page size"));
	setup_close(&s);
	free(fresh);
	free(reuse);
	return 0;
}

static int run_reclaim(const char *sock, size_t rounds)
{
	int64_t *rate = calloc(rounds, sizeof(int64_t));
	size_t size = 7 * MIB / 2;
	struct setup s;
	long pages = 0;

	if (!rate)
		die("out of memory");
	setup_open(&s, sock, size);
	for (size_t i = 0; i < rounds; i++) {
		long before, after;
		int64_t t0;

		timed_call(&s.c, s.data, size);
		before = ubd_stat(&s.d, "pages reclaimed");
		t0 = now_ns();
		shrink_all(&s.d);
		rate[i] = now_ns() - t0;
		after = ubd_stat(&s.d, "pages reclaimed");
		pages = after - before;
		/* pages per second, as an integer for the median */
		rate[i] = (int64_t)((double)pages * 1e9 / (double)rate[i]);
	}
	printf("reclaim pages_per_shrink %ld pages_per_s %lld\n", pages,
	       (long long)median(rate, rounds));
	setup_close(&s);
	free(rate);
	return 0;
}

/* Calls of 4 KiB to 3 MiB from @clients processes for @ms milliseconds; a
 * call the full region refuses (BR_FAILED_REPLY) is part of a burst. */
static void burst(const char *sock, int clients, int ms)
{
	pid_t pids[8];

	for (int i = 0; i < clients; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct rc c;
			uint8_t *data = calloc(1, 3 * MIB);
			int64_t end = now_ns() + (int64_t)ms * 1000000;
			size_t size = 4096 << i;

			if (!data || rc_open(&c, sock, MIB) != 0)
				_exit(1);
			while (now_ns() < end) {
				try_call(&c, data, size);
				size = size * 2 > 3 * MIB ? 4096 : size * 2;
			}
			rc_close(&c);
			_exit(0);
		}
	}
	for (int i = 0; i < clients; i++)
		waitpid(pids[i], NULL, 0);
}

struct sampler {
	struct ubd d;
	int64_t t0;
	const char *phase;
	int pipe[2]; /* phase names to the sampler process */
	pid_t pid;
};

/* Samples every 20 ms until the pipe closes; the phase changes when told. */
static void sampler_main(struct sampler *s)
{
	char phase[32] = "idle";

	close(s->pipe[1]);
	for (;;) {
		char buf[32];
		ssize_t n;
		char *text = ubd_admin(&s->d, UBW_ADMIN_STATS, 0, NULL);
		long resident = -1, active = -1, lru = -1, free_pages = -1;
		const char *at;

		if (text) {
			if ((at = strstr(text, "\nresident pages: ")) != NULL)
				resident = strtol(at + 17, NULL, 10);
			if ((at = strstr(text, "\npages: ")) != NULL)
				sscanf(at, "\npages: %ld:%ld:%ld", &active, &lru, &free_pages);
			free(text);
		}
		printf("%lld %ld %ld %ld %s\n", (long long)((now_ns() - s->t0) / 1000000), resident,
		       active, lru, phase);
		fflush(stdout);
		usleep(20 * 1000);
		n = read(s->pipe[0], buf, sizeof(buf) - 1);
		if (n == 0)
			_exit(0);
		if (n > 0) {
			buf[n] = '\0';
			snprintf(phase, sizeof(phase), "%s", buf);
		}
	}
}

static void phase(struct sampler *s, const char *name)
{
	if (write(s->pipe[1], name, strlen(name)) < 0)
		die("the sampler is gone");
}

static int run_timeline(const char *sock, const char *pressure_cmd)
{
	struct echo_manager m;
	struct sampler s = { .t0 = now_ns() };

	snprintf(s.d.sock, sizeof(s.d.sock), "%s", sock);
	echo_start(&m, sock);
	if (pipe2(s.pipe, O_NONBLOCK) < 0)
		die("pipe");
	s.pid = fork();
	if (s.pid == 0)
		sampler_main(&s);
	close(s.pipe[0]);
	usleep(300 * 1000);
	phase(&s, "burst");
	burst(sock, 4, 1000);
	phase(&s, "quiet");
	usleep(700 * 1000);
	phase(&s, "pressure");
	if (system(pressure_cmd) != 0)
		fprintf(stderr, "bench-pages: the pressure command failed\n");
	phase(&s, "quiet");
	usleep(700 * 1000);
	phase(&s, "burst");
	burst(sock, 4, 1000);
	phase(&s, "decay");
	usleep(5000 * 1000);
	close(s.pipe[1]);
	waitpid(s.pid, NULL, 0);
	{
		char *text = ubd_admin(&s.d, UBW_ADMIN_STATS, 0, NULL);
		const char *keys[] = { "\nreclaimed:", "\npressure events", "\npressure last drain",
				       "\nmemory limit of" };

		for (size_t i = 0; text && i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *at = strstr(text, keys[i]);

			if (at)
				printf("# %.*s\n", (int)strcspn(at + 1, "\n"), at + 1);
		}
		free(text);
	}
	echo_stop(&m, sock);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "calls") == 0)
		return run_calls(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "reclaim") == 0)
		return run_reclaim(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "timeline") == 0)
		return run_timeline(argv[2], argv[3]);
	fprintf(stderr, "usage: ubinder-bench-pages calls SOCKET SIZE ROUNDS\n"
			"       ubinder-bench-pages reclaim SOCKET ROUNDS\n"
			"       ubinder-bench-pages timeline SOCKET PRESSURE_CMD\n");
	return 2;
}
