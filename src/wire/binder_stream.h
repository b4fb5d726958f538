/* SPDX-License-Identifier: MIT */
/*
 * Walking Binder command streams as the kernel driver does, for every way
 * into the daemon that reads a client's write buffer or builds its read
 * buffer: whether a write buffer ends with a whole command, where a read's
 * last item starts, and the readable prefix of client memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

/* Whether the command stream ends with a whole command. If not, the kernel
 * reads the last command's arguments past write_size (kernel-facts.md 2). */
static inline bool binder_stream_complete(const uint8_t *w, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		uint32_t cmd;

		if (len - pos < sizeof(cmd))
			return false;
		memcpy(&cmd, w + pos, sizeof(cmd));
		pos += sizeof(cmd) + _IOC_SIZE(cmd);
	}
	return pos == len;
}

/* Where the last item of a read starts (the BR_TRANSACTION or BR_REPLY). */
static inline size_t binder_stream_last_item(const uint8_t *p, size_t len)
{
	size_t pos = 0, last = 0;

	while (len - pos >= sizeof(uint32_t)) {
		uint32_t cmd;

		memcpy(&cmd, p + pos, sizeof(cmd));
		last = pos;
		pos += sizeof(cmd) + _IOC_SIZE(cmd);
		if (pos > len)
			break;
	}
	return last;
}

/* Reads @len bytes of client memory at @src: 0, or non-zero if it cannot. */
typedef int (*binder_mem_read_fn)(void *ctx, void *dst, uint64_t src, size_t len);

/*
 * Copies as much of [addr, addr + len) as is readable, page by page (the
 * kernel processes the readable commands first); returns the bytes copied.
 */
static inline size_t binder_read_prefix(binder_mem_read_fn read, void *ctx, uint8_t *dst,
					uint64_t addr, size_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t done = 0;

	if (read(ctx, dst, addr, len) == 0)
		return len;
	while (done < len) {
		uint64_t page_end = ((addr + done) | (page - 1)) + 1;
		size_t n = page_end - (addr + done);

		if (n > len - done)
			n = len - done;
		if (read(ctx, dst + done, addr + done, n))
			break;
		done += n;
	}
	return done;
}
