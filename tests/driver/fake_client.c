/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "fake_client.h"
#include "test-util.h"

static void write_read_done(void *conn, const struct bwr_result *r)
{
	struct fake_client *fc = conn;
	size_t pos = 0;

	fc->answers++;
	fc->readable_at_answer = fc->readable;
	fc->nitems = 0;
	while (r->read && pos + 4 <= r->read_len && fc->nitems < 16) {
		uint32_t cmd;

		memcpy(&cmd, r->read + pos, 4);
		pos += 4;
		if (cmd == BR_TRANSACTION || cmd == BR_REPLY) {
			struct binder_transaction_data tr;

			memcpy(&tr, r->read + pos, sizeof(tr));
			fc->buffer = tr.data.ptr.buffer;
			fc->size = tr.data_size;
		}
		fc->items[fc->nitems++] = cmd;
		fc->last_item = cmd;
		pos += _IOC_SIZE(cmd);
	}
}

static void ioctl_done(void *conn, int error, const void *arg, size_t size)
{
	(void)conn;
	(void)error;
	(void)arg;
	(void)size;
}

static int fetch_start(void *daemon, struct fetch_job *job)
{
	(void)daemon;
	(void)job;
	return -ENOMEM; /* every payload here comes inline */
}

static void poll_changed(void *session, bool readable)
{
	((struct fake_client *)session)->readable = readable;
}

const struct driver_ops fake_client_ops = {
	.write_read_done = write_read_done,
	.ioctl_done = ioctl_done,
	.fetch_start = fetch_start,
	.poll_changed = poll_changed,
};

void fake_client_open(struct fake_client *fc, struct driver *drv, struct context *ctx, int i,
		      size_t region, bool polls)
{
	struct proc_identity id = {
		.pid = 300000 + i, .euid = 1000, .pidfd = -1, .wants_poll = polls
	};
	struct thread_peer peer = { .pid = id.pid, .pidfd = -1 };
	uint64_t base = 0x100000000ull * (uint64_t)(i + 1), mapped;
	int fd;

	fc->proc = driver_proc_open(drv, ctx, &id, fc);
	assert_non_null(fc->proc);
	assert_int_equal(driver_thread_attach(fc->proc, id.pid, &peer, fc, &fc->thread), 0);
	assert_non_null(fc->thread);
	assert_int_equal(driver_mmap(fc->thread, base, region, &fd, &mapped), 0);
	close(fd);
	assert_int_equal(driver_mmap_done(fc->thread, base), 0);
}
