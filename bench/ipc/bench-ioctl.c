/* SPDX-License-Identifier: MIT */
/*
 * The same round trip as bench-ipc's "ubinder" mode, written only against
 * the kernel interface (open("/dev/binder"), mmap, ioctl): run under
 * ubinder-run it measures the /dev/binder emulation; on a kernel with Binder
 * it measures the kernel driver.
 *
 * usage: bench-ioctl PAYLOAD ITERATIONS [DEVICE]     (default /dev/binder)
 * Prints one line: "ioctl PAYLOAD median_ns p99_ns".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "bench-common.h"

#define MAP_SIZE (4u << 20)

static int open_device(const char *path)
{
	struct binder_version v;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(path);
	if (ioctl(fd, BINDER_VERSION, &v) < 0)
		die("BINDER_VERSION");
	if (mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		die("mmap");
	return fd;
}

/* One BINDER_WRITE_READ; the first BR_TRANSACTION/BR_REPLY goes to @tr. */
static uint32_t talk(int fd, const uint8_t *w, size_t wlen, struct binder_transaction_data *tr)
{
	uint8_t r[256];
	struct binder_write_read bwr = { .write_size = wlen,
					 .write_buffer = (uintptr_t)w,
					 .read_size = sizeof(r),
					 .read_buffer = (uintptr_t)r };

	while (ioctl(fd, BINDER_WRITE_READ, &bwr) < 0) {
		if (errno != EINTR)
			die("BINDER_WRITE_READ");
	}
	return first_transaction(r, bwr.read_consumed, tr);
}

static uint32_t client_talk(void *fd, const uint8_t *w, size_t wlen,
			    struct binder_transaction_data *tr)
{
	return talk(*(int *)fd, w, wlen, tr);
}

static void server(const char *dev, size_t payload, size_t total)
{
	struct binder_transaction_data tr, reply = { 0 };
	char *data = calloc(1, payload ? payload : 1);
	uint8_t w[256];
	size_t wlen;
	int fd = open_device(dev);

	/* The kernel ignores the argument; FUSE's restricted ioctl copies it in. */
	int32_t unused = 0;

	if (ioctl(fd, BINDER_SET_CONTEXT_MGR, &unused) < 0)
		die("BINDER_SET_CONTEXT_MGR");
	reply.data_size = payload;
	reply.data.ptr.buffer = (uintptr_t)data;
	wlen = put(w, 0, BC_ENTER_LOOPER, NULL, 0);
	while (!talk(fd, w, wlen, &tr))
		wlen = 0;
	for (size_t i = 0; i < total; i++) {
		wlen = put(w, 0, BC_FREE_BUFFER, &tr.data.ptr.buffer, 8);
		wlen = put(w, wlen, BC_REPLY, &reply, sizeof(reply));
		if (i + 1 == total) {
			talk(fd, w, wlen, &tr);
			break;
		}
		while (!talk(fd, w, wlen, &tr))
			wlen = 0;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 3 ? argv[3] : "/dev/binder";
	struct binder_transaction_data call = { 0 };
	uint64_t *samples;
	size_t payload, iterations;
	char *data;
	pid_t pid;
	int fd;

	if (argc < 3 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 3 ? stderr : stdout,
			"usage: bench-ioctl PAYLOAD ITERATIONS [DEVICE]\n"
			"A call with a reply of PAYLOAD bytes each way through the Binder\n"
			"device (default /dev/binder); run it under ubinder-run.\n");
		return argc < 3 ? 2 : 0;
	}
	payload = strtoull(argv[1], NULL, 0);
	iterations = strtoull(argv[2], NULL, 0);
	samples = calloc(iterations, sizeof(*samples));
	data = calloc(1, payload ? payload : 1);
	if (!samples || !data)
		die("calloc");
	pid = fork();
	if (pid == 0)
		server(dev, payload, iterations + WARMUP);
	usleep(200000);
	fd = open_device(dev);
	call.code = 1;
	call.data_size = payload;
	call.data.ptr.buffer = (uintptr_t)data;
	bench_calls(client_talk, &fd, &call, samples, iterations);
	waitpid(pid, NULL, 0);
	report("ioctl", payload, samples, iterations);
	return 0;
}
