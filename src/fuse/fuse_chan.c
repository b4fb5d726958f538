/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/fuse.h>
#include <unistd.h>

#include "fuse/fuse_chan.h"

static int send_message(struct fuse_chan *ch, uint64_t unique, int error, const struct iovec *iov,
			int n)
{
	struct fuse_out_header h = { .error = error, .unique = unique };
	struct iovec all[FUSE_CHAN_MAX_IOV + 1];
	size_t len = sizeof(h);
	ssize_t w;

	if (n > FUSE_CHAN_MAX_IOV)
		return -EINVAL;
	all[0] = (struct iovec){ &h, sizeof(h) };
	for (int i = 0; i < n; i++) {
		all[i + 1] = iov[i];
		len += iov[i].iov_len;
	}
	h.len = (uint32_t)len;
	do
		w = writev(ch->fd, all, n + 1);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return 0;
}

int fuse_chan_reply(struct fuse_chan *ch, uint64_t unique, int error, const struct iovec *iov,
		    int n)
{
	int err = send_message(ch, unique, error, error ? NULL : iov, error ? 0 : n);

	if (err == -ENOENT) /* the caller was killed meanwhile: nobody waits for it */
		atomic_fetch_add(&ch->lost, 1);
	else if (err == 0)
		atomic_fetch_add(&ch->replies, 1);
	return err;
}

int fuse_chan_notify(struct fuse_chan *ch, int code, const struct iovec *iov, int n)
{
	return send_message(ch, 0, code, iov, n);
}
