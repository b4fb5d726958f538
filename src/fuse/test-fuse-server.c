/* SPDX-License-Identifier: MIT */
/*
 * The FUSE server's file system without a mount: requests built as the
 * kernel sends them go to fuse_server_request(), and a socket pair stands
 * in for /dev/fuse to read the answers back. INIT, the directory, one new
 * inode per lookup and forgetting them, the attributes of a device file,
 * the listing, and the answers to malformed or unknown requests. (Opens and
 * ioctls need the driver and a caller: integration-fuse.)
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/fuse_server.h"
#include "test-util.h"

struct rig {
	struct fuse_server fs;
	int peer; /* the kernel's end */
	uint64_t unique;
	uint8_t answer[8192];
	struct fuse_out_header *out;
	void *body;
	size_t body_len;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	int sv[2];

	assert_non_null(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	r->fs.chan.fd = sv[0];
	r->peer = sv[1];
	r->fs.file_size = 4u << 20;
	r->fs.next_nodeid = 0x7562000000000000ull;
	r->fs.ctxs[0].name = "binder";
	r->fs.ctxs[1].name = "hwbinder";
	r->fs.nctx = 2;
	r->fs.bufsize = 8192;
	return r;
}

static void rig_free(struct rig *r)
{
	r->fs.src.fd = -1;
	fuse_server_deinit(&r->fs); /* closes chan.fd */
	close(r->peer);
	free(r);
}

/* Sends a request; returns the answer's error (and its body in r->body). */
static int ask(struct rig *r, uint32_t opcode, uint64_t nodeid, const void *arg, size_t len)
{
	struct fuse_in_header h = { .len = (uint32_t)(sizeof(h) + len),
				    .opcode = opcode,
				    .unique = ++r->unique,
				    .nodeid = nodeid,
				    .pid = 1 };
	ssize_t n;

	fuse_server_request(&r->fs, &h, arg, len);
	n = recv(r->peer, r->answer, sizeof(r->answer), MSG_DONTWAIT);
	if (n < 0)
		return 1; /* no answer */
	assert_true((size_t)n >= sizeof(*r->out));
	r->out = (struct fuse_out_header *)r->answer;
	assert_int_equal(r->out->len, (uint32_t)n);
	assert_int_equal(r->out->unique, h.unique);
	r->body = r->answer + sizeof(*r->out);
	r->body_len = (size_t)n - sizeof(*r->out);
	return r->out->error;
}

static uint64_t lookup(struct rig *r, const char *name)
{
	int err = ask(r, FUSE_LOOKUP, FUSE_ROOT_ID, name, strlen(name) + 1);
	struct fuse_entry_out *e = r->body;

	if (err)
		return 0;
	assert_int_equal(r->body_len, sizeof(*e));
	assert_int_equal(e->entry_valid, 0); /* never cached: the next walk looks up again */
	assert_int_equal(e->attr.ino, e->nodeid);
	assert_int_equal(e->attr.mode, S_IFREG | 0666);
	assert_int_equal(e->attr.size, 4u << 20);
	return e->nodeid;
}

static void init_answers_the_kernels_major(void **state)
{
	struct rig *r = rig_new();
	struct fuse_init_in in = { .major = FUSE_KERNEL_VERSION,
				   .minor = 45,
				   .max_readahead = 65536,
				   .flags = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS };
	struct fuse_init_out *out;

	(void)state;
	assert_int_equal(ask(r, FUSE_INIT, 0, &in, sizeof(in)), 0);
	out = r->body;
	assert_int_equal(out->major, FUSE_KERNEL_VERSION);
	assert_int_equal(out->minor, FUSE_KERNEL_MINOR_VERSION); /* the lower of the two */
	assert_int_equal(out->flags, FUSE_ASYNC_READ);		 /* no locks asked back */
	assert_true(r->fs.initialized);
	in.major = 6;
	assert_int_equal(ask(r, FUSE_INIT, 0, &in, sizeof(in)), -EPROTO);
	rig_free(r);
}

static void each_lookup_is_a_new_inode_until_forgotten(void **state)
{
	struct rig *r = rig_new();
	struct fuse_forget_in forget = { .nlookup = 1 };
	uint64_t a, b;
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[1];
	} batch = { { .count = 1 }, { { 0, 1 } } };

	(void)state;
	a = lookup(r, "binder");
	b = lookup(r, "binder");
	assert_true(a >= 0x7562000000000000ull);
	assert_true(b != a);
	assert_int_equal(ask(r, FUSE_GETATTR, b, NULL, 0), 0);
	assert_int_equal(lookup(r, "vndbinder"), 0); /* not served */
	assert_int_equal(r->out->error, -ENOENT);
	assert_int_equal(ask(r, FUSE_GETATTR, a, NULL, 0), 0);
	assert_int_equal(((struct fuse_attr_out *)r->body)->attr.mode, S_IFREG | 0666);
	assert_int_equal(ask(r, FUSE_FORGET, a, &forget, sizeof(forget)), 1); /* no answer */
	assert_int_equal(ask(r, FUSE_GETATTR, a, NULL, 0), -ENOENT);
	batch.one[0].nodeid = b;
	assert_int_equal(ask(r, FUSE_BATCH_FORGET, 0, &batch, sizeof(batch)), 1);
	assert_null(r->fs.nodes);
	/* A batch that claims more entries than it carries is ignored. */
	batch.in.count = 1000;
	assert_int_equal(ask(r, FUSE_BATCH_FORGET, 0, &batch, sizeof(batch)), 1);
	rig_free(r);
}

static void the_directory_lists_the_contexts(void **state)
{
	struct rig *r = rig_new();
	struct fuse_read_in in = { .size = 4096 };
	const char *names[] = { ".", "..", "binder", "hwbinder" };
	size_t pos = 0, i = 0;

	(void)state;
	assert_int_equal(ask(r, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0), 0);
	assert_int_equal(((struct fuse_attr_out *)r->body)->attr.mode, S_IFDIR | 0755);
	assert_int_equal(ask(r, FUSE_READDIR, FUSE_ROOT_ID, &in, sizeof(in)), 0);
	while (pos < r->body_len) {
		struct fuse_dirent *d = (struct fuse_dirent *)((uint8_t *)r->body + pos);

		assert_true(i < 4);
		assert_int_equal(d->namelen, strlen(names[i]));
		assert_memory_equal(d->name, names[i], d->namelen);
		pos += FUSE_DIRENT_SIZE(d);
		i++;
	}
	assert_int_equal(i, 4);
	in.offset = 4; /* the end */
	assert_int_equal(ask(r, FUSE_READDIR, FUSE_ROOT_ID, &in, sizeof(in)), 0);
	assert_int_equal(r->body_len, 0);
	rig_free(r);
}

static void bad_and_unknown_requests_are_refused(void **state)
{
	struct rig *r = rig_new();
	struct fuse_interrupt_in intr = { .unique = 12345 };
	struct fuse_open_in open_in = { .flags = 2 };
	char unterminated[3] = { 'b', 'i', 'n' };

	(void)state;
	assert_int_equal(ask(r, FUSE_LOOKUP, FUSE_ROOT_ID, unterminated, 3), -EINVAL);
	assert_int_equal(ask(r, FUSE_LOOKUP, 99, "binder", 7), -ENOTDIR);
	assert_int_equal(ask(r, FUSE_IOCTL, 99, "x", 1), -EINVAL); /* truncated */
	assert_int_equal(ask(r, FUSE_POLL, 99, "x", 1), -EINVAL);  /* truncated */
	assert_int_equal(ask(r, FUSE_OPEN, 99, &open_in, sizeof(open_in)), -ENOENT);
	assert_int_equal(ask(r, FUSE_OPEN, FUSE_ROOT_ID, &open_in, sizeof(open_in)), -EISDIR);
	assert_int_equal(ask(r, FUSE_WRITE, 99, NULL, 0), -EINVAL);
	assert_int_equal(ask(r, FUSE_MKNOD, FUSE_ROOT_ID, NULL, 0), -ENOSYS);
	assert_int_equal(r->fs.stats.unsupported, 1);
	/* An interrupt of nothing pending: the kernel is told to try again later. */
	assert_int_equal(ask(r, FUSE_INTERRUPT, 0, &intr, sizeof(intr)), -EAGAIN);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_answers_the_kernels_major),
		cmocka_unit_test(each_lookup_is_a_new_inode_until_forgotten),
		cmocka_unit_test(the_directory_lists_the_contexts),
		cmocka_unit_test(bad_and_unknown_requests_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
