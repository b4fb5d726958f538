/* SPDX-License-Identifier: MIT */
/*
 * A Binder client written against the kernel API only (<linux/android/binder.h>
 * on /dev/binder): it pings the context manager COUNT times (PING_TRANSACTION
 * to handle 0) and prints "ping ok COUNT". Built statically with glibc and
 * with musl, it runs unmodified through `ubinder-run --seccomp`.
 *
 *   ping [COUNT] [block]   "block": then waits in a read forever
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/android/binder.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PING_TRANSACTION ((uint32_t)'_' << 24 | (uint32_t)'P' << 16 | 'N' << 8 | 'G')
#define MAP_SIZE	 (128 * 1024)

static int fail(const char *what)
{
	fprintf(stderr, "ping: %s: %s\n", what, strerror(errno));
	return 1;
}

static int write_read(int fd, const void *w, size_t wlen, void *r, size_t rlen, size_t *got)
{
	struct binder_write_read bwr = { .write_size = wlen,
					 .write_buffer = (uintptr_t)w,
					 .read_size = rlen,
					 .read_buffer = (uintptr_t)r };

	if (ioctl(fd, BINDER_WRITE_READ, &bwr) < 0)
		return -1;
	*got = bwr.read_consumed;
	return 0;
}

/* One call: BC_TRANSACTION, then reads until BR_REPLY; frees the reply's buffer. */
static int ping(int fd)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed))
	w = { .cmd = BC_TRANSACTION, .tr = { .target.handle = 0, .code = PING_TRANSACTION } };
	uint8_t r[512];
	size_t got, pos;
	const void *wp = &w;
	size_t wlen = sizeof(w);

	for (int rounds = 0; rounds < 16; rounds++) {
		if (write_read(fd, wp, wlen, r, sizeof(r), &got) < 0)
			return -1;
		wp = NULL;
		wlen = 0;
		for (pos = 0; pos + 4 <= got;) {
			uint32_t cmd;

			memcpy(&cmd, r + pos, 4);
			pos += 4;
			if (cmd == BR_REPLY) {
				struct binder_transaction_data tr;
				struct {
					uint32_t cmd;
					binder_uintptr_t ptr;
				} __attribute__((packed)) f = { BC_FREE_BUFFER, 0 };
				size_t unused;

				memcpy(&tr, r + pos, sizeof(tr));
				f.ptr = tr.data.ptr.buffer;
				if (write_read(fd, &f, sizeof(f), NULL, 0, &unused) < 0)
					return -1;
				return 0;
			}
			if (cmd == BR_DEAD_REPLY || cmd == BR_FAILED_REPLY) {
				errno = ECONNREFUSED;
				return -1;
			}
			pos += _IOC_SIZE(cmd);
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 1;
	struct binder_version v;
	void *map;
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("/dev/binder");
	if (ioctl(fd, BINDER_VERSION, &v) < 0)
		return fail("BINDER_VERSION");
	if (v.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION) {
		fprintf(stderr, "ping: protocol version %d\n", v.protocol_version);
		return 1;
	}
	map = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	for (int i = 0; i < count; i++) {
		if (ping(fd) < 0)
			return fail("ping");
	}
	printf("ping ok %d\n", count);
	fflush(stdout);
	if (argc > 2 && strcmp(argv[2], "block") == 0) {
		uint32_t enter = BC_ENTER_LOOPER;
		uint8_t r[64];
		size_t got;

		write_read(fd, &enter, sizeof(enter), NULL, 0, &got);
		for (;;)
			write_read(fd, NULL, 0, r, sizeof(r), &got);
	}
	return 0;
}
