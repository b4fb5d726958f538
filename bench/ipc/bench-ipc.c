/* SPDX-License-Identifier: MIT */
/*
 * Round-trip latency of a synchronous call with a reply of the same size:
 * ubinder (raw Binder protocol through ubinderd) against an AF_UNIX
 * ping-pong of the same payload, run by bench/ipc.sh in the same script.
 *
 * usage: bench-ipc MODE PAYLOAD ITERATIONS [SOCKET]
 *   MODE: unix-seqpacket | unix-stream | ubinder | ubinder-native
 *   ubinder: the kernel's semantics, as an unmodified program gets them (the
 *     replier's [BC_REPLY] + read returns its BR_TRANSACTION_COMPLETE at once,
 *     so it reads again to wait for the next call);
 *   ubinder-native: what libubinder does on top: the replier holds its
 *     completion until the next call (UBW_WR_HOLD_COMPLETE, one round trip),
 *     and payloads larger than the inline limit are built in the outbox.
 * Prints one line: "MODE PAYLOAD median_ns p99_ns".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-common.h"
#include "transport/transport.h"

/* --- AF_UNIX baseline -------------------------------------------------------- */

static int full_io(int fd, void *buf, size_t len, bool out)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = out ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
				: recv(fd, (char *)buf + done, len - done, 0);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void bench_unix(const char *mode, int type, size_t payload, size_t iterations)
{
	uint64_t *samples = calloc(iterations, sizeof(*samples));
	char *buf = malloc(payload ? payload : 1);
	int sv[2];
	pid_t pid;

	if (!samples || !buf || socketpair(AF_UNIX, type, 0, sv) < 0)
		die("socketpair");
	if (type == SOCK_SEQPACKET) {
		int size = (int)(payload + 4096) * 2;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	memset(buf, 0x5a, payload);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		for (size_t i = 0; i < iterations + WARMUP; i++) {
			if (type == SOCK_SEQPACKET) {
				if (recv(sv[1], buf, payload ? payload : 1, 0) < 0 ||
				    send(sv[1], buf, payload ? payload : 1, 0) < 0)
					_exit(1);
			} else if (full_io(sv[1], buf, payload ? payload : 1, false) ||
				   full_io(sv[1], buf, payload ? payload : 1, true)) {
				_exit(1);
			}
		}
		_exit(0);
	}
	close(sv[1]);
	for (size_t i = 0; i < iterations + WARMUP; i++) {
		uint64_t t0 = now_ns();

		if (type == SOCK_SEQPACKET) {
			if (send(sv[0], buf, payload ? payload : 1, 0) < 0 ||
			    recv(sv[0], buf, payload ? payload : 1, 0) < 0)
				die("seqpacket");
		} else if (full_io(sv[0], buf, payload ? payload : 1, true) ||
			   full_io(sv[0], buf, payload ? payload : 1, false)) {
			die("stream");
		}
		if (i >= WARMUP)
			samples[i - WARMUP] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	report(mode, payload, samples, iterations);
	free(samples);
	free(buf);
}

/* --- ubinder ---------------------------------------------------------------- */

struct endpoint {
	struct ubt_session s;
	struct ubt_thread t;
	void *map;
	bool native;
};

static void endpoint_open(struct endpoint *e, const char *sock, bool native)
{
	struct binder_version v;
	int err;

	err = ubt_session_open(&e->s, sock, false, true, &ubt_libc);
	if (!err)
		err = ubt_thread_open(&e->t, &e->s);
	if (!err)
		err = ubt_ioctl(&e->t, &e->s, BINDER_VERSION, &v);
	if (!err)
		err = ubt_mmap(&e->t, NULL, 4 << 20, false, &e->map);
	if (err) {
		errno = -err;
		die(sock);
	}
	e->native = native;
}

/* Where a payload is built: the outbox for native large payloads (the
 * library's rule, UBT_OUTBOX_MIN, unless BENCH_OUTBOX_MIN says), else the heap. */
static char *payload_buffer(struct endpoint *e, size_t payload)
{
	void *outbox;

	const char *force = getenv("BENCH_OUTBOX_MIN");
	size_t min = force ? strtoull(force, NULL, 0) : UBT_OUTBOX_MIN;

	if (e->native && payload >= min) {
		size_t size = (payload + 4095) & ~(size_t)4095;
		int err = ubt_outbox(&e->t, size, 0, &outbox);

		if (err) {
			errno = -err;
			die("outbox");
		}
		ubt_session_outbox(&e->s, outbox, size);
		return outbox;
	}
	return malloc(payload ? payload : 1);
}

/*
 * One BINDER_WRITE_READ; returns the transaction of the first BR_TRANSACTION
 * or BR_REPLY in @tr, or 0 if the read had none.
 */
static uint32_t talk(struct endpoint *e, const uint8_t *w, size_t wlen,
		     struct binder_transaction_data *tr, unsigned int flags)
{
	uint8_t r[256];
	struct binder_write_read bwr = { .write_size = wlen,
					 .write_buffer = (uintptr_t)w,
					 .read_size = sizeof(r),
					 .read_buffer = (uintptr_t)r };
	int err = ubt_write_read_flags(&e->t, &e->s, &bwr, flags);

	if (err) {
		errno = -err;
		die("BINDER_WRITE_READ");
	}
	return first_transaction(r, bwr.read_consumed, tr);
}

static uint32_t client_talk(void *e, const uint8_t *w, size_t wlen,
			    struct binder_transaction_data *tr)
{
	return talk(e, w, wlen, tr, 0);
}

static void ubinder_server(const char *sock, size_t payload, size_t total, bool native)
{
	struct binder_transaction_data tr, reply = { 0 };
	unsigned int hold = native ? UBT_HOLD_COMPLETE : 0;
	struct endpoint e;
	uint8_t w[256];
	size_t wlen;
	char *data;

	endpoint_open(&e, sock, native);
	data = payload_buffer(&e, payload);
	if (ubt_ioctl(&e.t, &e.s, BINDER_SET_CONTEXT_MGR, NULL))
		die("context manager");
	memset(data, 0xa5, payload);
	reply.data_size = payload;
	reply.data.ptr.buffer = (uintptr_t)data;
	wlen = put(w, 0, BC_ENTER_LOOPER, NULL, 0);
	while (!talk(&e, w, wlen, &tr, 0))
		wlen = 0;
	for (size_t i = 0; i < total; i++) {
		/* Free the request and reply in one write, then wait for the next. */
		wlen = put(w, 0, BC_FREE_BUFFER, &tr.data.ptr.buffer, 8);
		wlen = put(w, wlen, BC_REPLY, &reply, sizeof(reply));
		if (i + 1 == total) {
			talk(&e, w, wlen, &tr, 0);
			break;
		}
		while (!talk(&e, w, wlen, &tr, hold))
			wlen = 0;
	}
	_exit(0);
}

static void bench_ubinder(const char *mode, const char *sock, size_t payload, size_t iterations,
			  bool native)
{
	uint64_t *samples = calloc(iterations, sizeof(*samples));
	char *data;
	struct binder_transaction_data call = { 0 };
	struct endpoint e;
	pid_t pid;

	if (!samples)
		die("malloc");
	pid = fork();
	if (pid == 0)
		ubinder_server(sock, payload, iterations + WARMUP, native);
	usleep(200000); /* the server becomes the context manager */
	endpoint_open(&e, sock, native);
	data = payload_buffer(&e, payload);
	memset(data, 0x5a, payload);
	call.code = 1;
	call.data_size = payload;
	call.data.ptr.buffer = (uintptr_t)data;
	bench_calls(client_talk, &e, &call, samples, iterations);
	waitpid(pid, NULL, 0);
	report(mode, payload, samples, iterations);
	free(samples);
}

int main(int argc, char **argv)
{
	size_t payload, iterations;

	if (argc < 4 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 4 ? stderr : stdout,
			"usage: bench-ipc MODE PAYLOAD ITERATIONS [SOCKET]\n"
			"  MODE: unix-seqpacket | unix-stream | ubinder | ubinder-native\n"
			"Prints \"MODE PAYLOAD median_ns p99_ns\" for a call with a reply of\n"
			"PAYLOAD bytes each way, after %d warm-up calls.\n"
			"ubinder-native builds payloads of at least %u bytes in the outbox,\n"
			"as libubinder does (UBT_OUTBOX_MIN); BENCH_OUTBOX_MIN=N in the\n"
			"environment moves that threshold to N (to measure both ways).\n",
			WARMUP, UBT_OUTBOX_MIN);
		return argc < 4 ? 2 : 0;
	}
	payload = strtoull(argv[2], NULL, 0);
	iterations = strtoull(argv[3], NULL, 0);
	if (strcmp(argv[1], "unix-seqpacket") == 0)
		bench_unix(argv[1], SOCK_SEQPACKET, payload, iterations);
	else if (strcmp(argv[1], "unix-stream") == 0)
		bench_unix(argv[1], SOCK_STREAM, payload, iterations);
	else if (strcmp(argv[1], "ubinder") == 0 && argc > 4)
		bench_ubinder(argv[1], argv[4], payload, iterations, false);
	else if (strcmp(argv[1], "ubinder-native") == 0 && argc > 4)
		bench_ubinder(argv[1], argv[4], payload, iterations, true);
	else {
		fprintf(stderr, "bench-ipc: unknown mode %s (or missing SOCKET)\n", argv[1]);
		return 2;
	}
	return 0;
}
