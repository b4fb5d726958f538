/* SPDX-License-Identifier: MIT */
/*
 * The FUSE device of a `ubinderd --fuse-dev` mount, as something to write
 * to: answers to the kernel's requests and the server's notifications
 * (NOTIFY_POLL, NOTIFY_STORE). Each message is one writev(), which the
 * device takes whole, so the loop and the copy workers may write at once.
 *
 * Owns: nothing (the descriptor is the server's). May call: the system.
 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#define FUSE_CHAN_MAX_IOV 4

struct fuse_chan {
	int fd;
	atomic_uint_fast64_t replies, lost; /* lost: the request was gone (ENOENT) */
};

/* Answers request @unique with @error (0 or -errno) and the bytes of @iov. */
int fuse_chan_reply(struct fuse_chan *ch, uint64_t unique, int error, const struct iovec *iov,
		    int n);
static inline int fuse_chan_reply_error(struct fuse_chan *ch, uint64_t unique, int error)
{
	return fuse_chan_reply(ch, unique, error, NULL, 0);
}
static inline int fuse_chan_reply_data(struct fuse_chan *ch, uint64_t unique, const void *p,
				       size_t len)
{
	struct iovec iov = { (void *)p, len };

	return fuse_chan_reply(ch, unique, 0, &iov, 1);
}
/* A notification (FUSE_NOTIFY_*): 0 or -errno. */
int fuse_chan_notify(struct fuse_chan *ch, int code, const struct iovec *iov, int n);
