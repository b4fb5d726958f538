/* SPDX-License-Identifier: MIT */
/*
 * File descriptors through the real daemon: a BINDER_TYPE_FD object arrives
 * as a working descriptor in the receiver (close-on-exec, the sender's stays
 * open); an fd array inside a scatter-gather parent arrives with its numbers
 * written into the receiver's copy and is closed again when the buffer is
 * freed; descriptors to a node that does not accept them fail with EPERM;
 * and descriptors in flight when peers die leave nothing open in the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

#define CODE_FD	  1 /* one fd object: write "fd" into it */
#define CODE_FDA  2 /* a PTR parent holding an fd array: write "a0","a1" */
#define CODE_HOLD 3 /* oneway: keep the buffer, never read on */
#define CODE_STOP 4

struct manager {
	struct sync ready;
	bool accept_fds;
	bool no_room; /* cannot take one more descriptor (RLIMIT_NOFILE) */
	pid_t pid;
};

/* Fills the descriptor table's holes and lowers RLIMIT_NOFILE: no new descriptor fits. */
static int leave_no_room(void)
{
	struct rlimit rl;
	int highest = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			highest = fd;
	}
	for (int fd = 0; fd < highest; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDONLY) < 0)
			return -1;
	}
	rl.rlim_cur = (rlim_t)highest + 1;
	rl.rlim_max = 1024;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int write_str(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

/* A context manager (accepting fds or not) that uses what it receives. */
static int manager_main(void *arg)
{
	struct manager *m = arg;
	struct flat_binder_object mgr = { .hdr.type = BINDER_TYPE_BINDER,
					  .flags = m->accept_fds ? FLAT_BINDER_FLAG_ACCEPTS_FDS
								 : 0 };
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	int32_t status;
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open_manager(&c, D.sock, 1 << 20, &mgr) == 0);
	if (m->no_room)
		CHECK(leave_no_room() == 0);
	sync_post(&m->ready, 1);
	for (;;) {
		const uint8_t *data;
		const binder_size_t *offs;

		CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
		if (cmd != BR_TRANSACTION)
			continue;
		/* With no room for a descriptor, calls carrying one never reach us. */
		CHECK(!m->no_room || tr.code == CODE_STOP);
		data = (const uint8_t *)(uintptr_t)tr.data.ptr.buffer;
		offs = (const binder_size_t *)(uintptr_t)tr.data.ptr.offsets;
		status = 0;
		if (tr.code == CODE_FD) {
			const struct binder_fd_object *fo = (const void *)(data + offs[0]);

			CHECK(fo->hdr.type == BINDER_TYPE_FD && fo->cookie == 0xc0c0);
			/* A new descriptor of ours, close-on-exec, for the sender's pipe. */
			CHECK(fcntl((int)fo->fd, F_GETFD) == FD_CLOEXEC);
			status = write_str((int)fo->fd, "fd");
			close((int)fo->fd); /* a plain fd object is ours to close */
		} else if (tr.code == CODE_FDA) {
			const struct binder_buffer_object *bp = (const void *)(data + offs[0]);
			const uint32_t *fds = (const uint32_t *)(uintptr_t)(bp->buffer + 8);

			CHECK(write_str((int)fds[0], "a0") == 0);
			CHECK(write_str((int)fds[1], "a1") == 0);
			/* They are closed again when we free the buffer (checked below). */
			w.len = 0;
			cb_u32(&w, BC_FREE_BUFFER);
			cb_u64(&w, tr.data.ptr.buffer);
			CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
			CHECK(fcntl((int)fds[0], F_GETFD) < 0 && errno == EBADF);
			CHECK(fcntl((int)fds[1], F_GETFD) < 0 && errno == EBADF);
			tr.data.ptr.buffer = 0;
		} else if (tr.code == CODE_HOLD) {
			/* Die with the buffer and its descriptor held: the test kills us. */
			sync_post(&m->ready, 2);
			pause();
		}
		w.len = 0;
		if (tr.data.ptr.buffer) {
			cb_u32(&w, BC_FREE_BUFFER);
			cb_u64(&w, tr.data.ptr.buffer);
		}
		if (!(tr.flags & TF_ONE_WAY))
			cb_txn(&w, BC_REPLY, 0, 0, 0, &status, sizeof(status), NULL, 0);
		CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
		if (tr.code == CODE_STOP)
			return 0;
	}
}

static void manager_start(struct manager *m, bool accept_fds)
{
	m->accept_fds = accept_fds;
	sync_init(&m->ready);
	m->pid = spawn(manager_main, m);
	assert_int_equal(sync_wait(&m->ready, 10000), 1);
}

/* Sends one transaction; returns the final BR_ code and the reply's status word. */
static uint32_t send_txn(struct rc *c, uint32_t cmd, uint32_t code, uint32_t flags,
			 const void *data, size_t size, const binder_size_t *offs, size_t noffs,
			 uint64_t sg_size, int32_t *status, struct binder_extended_error *ee)
{
	struct binder_transaction_data_sg sg = { 0 };
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t br;

	sg.transaction_data.code = code;
	sg.transaction_data.flags = flags;
	sg.transaction_data.data_size = size;
	sg.transaction_data.offsets_size = noffs * sizeof(binder_size_t);
	sg.transaction_data.data.ptr.buffer = (uintptr_t)data;
	sg.transaction_data.data.ptr.offsets = (uintptr_t)offs;
	sg.buffers_size = sg_size;
	cb_u32(&w, cmd);
	cb_bytes(&w, &sg, cmd == BC_TRANSACTION_SG ? sizeof(sg) : sizeof(sg.transaction_data));
	if (flags & TF_ONE_WAY) {
		/* A oneway completes at once: [BR_NOOP, BR_TRANSACTION_COMPLETE or an error]. */
		uint8_t r[128]; /* an item needs 76 bytes free, as with the kernel */
		uint64_t rcons = 0;

		if (rc_bwr(c, w.buf, w.len, r, sizeof(r), NULL, &rcons) || rcons < 8)
			return 0;
		memcpy(&br, r + 4, 4);
		return br;
	}
	if (rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL) || rc_wait_for(c, &br, &tr))
		return 0;
	if (br == BR_REPLY) {
		if (status)
			memcpy(status, (const void *)(uintptr_t)tr.data.ptr.buffer, 4);
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL);
	}
	if (ee)
		rc_ioctl(c, BINDER_GET_EXTENDED_ERROR, ee);
	return br;
}

static void read_expect(int fd, const char *want)
{
	char buf[16] = { 0 };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(fd, buf, strlen(want)), (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

static void stop_manager(struct manager *m, struct rc *c)
{
	assert_int_equal(send_txn(c, BC_TRANSACTION, CODE_STOP, 0, NULL, 0, NULL, 0, 0, NULL, NULL),
			 BR_REPLY);
	assert_int_equal(reap(m->pid, 10000), 0);
}

/*
 * Sends a CODE_FD call (TF_ACCEPT_FDS) carrying one fd object for @fd, with
 * the cookie the manager checks; returns the final BR_ code, the reply's
 * status word in @status and the extended error in @ee (either may be NULL).
 */
static uint32_t send_fd_object(struct rc *c, int fd, int32_t *status,
			       struct binder_extended_error *ee)
{
	struct binder_fd_object fo = { .hdr.type = BINDER_TYPE_FD,
				       .fd = (uint32_t)fd,
				       .cookie = 0xc0c0 };
	binder_size_t off = 0;

	return send_txn(c, BC_TRANSACTION, CODE_FD, TF_ACCEPT_FDS, &fo, sizeof(fo), &off, 1, 0,
			status, ee);
}

static void fd_object_and_fd_array(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct manager m = { 0 };
	int p1[2], p2[2], p3[2];
	int32_t status = -1;
	struct rc c;

	(void)state;
	manager_start(&m, true);
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(pipe(p3), 0);

	/* One fd object. */
	assert_int_equal(send_fd_object(&c, p1[1], &status, NULL), BR_REPLY);
	assert_int_equal(status, 0);
	read_expect(p1[0], "fd");
	assert_true(fcntl(p1[1], F_GETFD) >= 0); /* ours stays open */
	/* An fd array inside a scatter-gather parent (8 bytes before it: offset 0 takes no fix-ups). */
	{
		struct {
			uint64_t pad;
			struct binder_buffer_object bp;
			struct binder_fd_array_object fda;
		} obj = { 0 };
		uint32_t parent_buf[4] = { 0xdead, 0xbeef, (uint32_t)p2[1], (uint32_t)p3[1] };
		binder_size_t offs[2] = { 8, 8 + sizeof(obj.bp) };

		obj.bp.hdr.type = BINDER_TYPE_PTR;
		obj.bp.buffer = (uintptr_t)parent_buf;
		obj.bp.length = sizeof(parent_buf);
		obj.fda.hdr.type = BINDER_TYPE_FDA;
		obj.fda.num_fds = 2;
		obj.fda.parent = 0;
		obj.fda.parent_offset = 8;
		assert_int_equal(send_txn(&c, BC_TRANSACTION_SG, CODE_FDA, 0, &obj, sizeof(obj),
					  offs, 2, sizeof(parent_buf), &status, NULL),
				 BR_REPLY);
		read_expect(p2[0], "a0");
		read_expect(p3[0], "a1");
	}
	stop_manager(&m, &c);
	rc_close(&c);
	for (int i = 0; i < 2; i++) {
		close(p1[i]);
		close(p2[i]);
		close(p3[i]);
	}
	assert_int_equal(ubd_wait_idle(&D), 0);
	assert_int_equal(ubd_wait_fds(&D, fds_before), fds_before);
}

static void fds_refused_without_accept_fds(void **state)
{
	struct binder_extended_error ee = { 0 };
	struct manager m = { 0 };
	struct rc c;
	int p[2];

	(void)state;
	manager_start(&m, false);
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(send_fd_object(&c, p[1], NULL, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.param, -EPERM);
	/* A descriptor number the sender does not have: EBADF. */
	assert_int_equal(send_fd_object(&c, 999, NULL, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.param, -EPERM); /* the node's flag is checked first */
	stop_manager(&m, &c);
	rc_close(&c);
	close(p[0]);
	close(p[1]);
}

/* As the kernel: a receiver that cannot install a descriptor never sees the call. */
static void receiver_without_room_for_a_descriptor(void **state)
{
	struct binder_extended_error ee = { 0 };
	struct manager m = { .no_room = true };
	struct rc c;
	int p[2];

	(void)state;
	manager_start(&m, true);
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(send_fd_object(&c, p[1], NULL, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.command, BR_OK); /* the kernel leaves the caller's ee alone */
	/* The receiver goes on waiting and serves the next call. */
	stop_manager(&m, &c);
	rc_close(&c);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ubd_wait_idle(&D), 0);
	assert_int_equal(ubd_stat(&D, "transaction: active"), 0);
}

struct holder {
	int fd;
	struct sync sent;
};

static int oneway_sender_main(void *arg)
{
	struct holder *h = arg;
	struct binder_fd_object fo = { .hdr.type = BINDER_TYPE_FD, .fd = (uint32_t)h->fd };
	binder_size_t off = 0;
	struct rc c;

	CHECK(rc_open(&c, D.sock, 1 << 20) == 0);
	/* Two oneways: the first is delivered (the manager holds it), the second waits. */
	CHECK(send_txn(&c, BC_TRANSACTION, CODE_HOLD, TF_ONE_WAY, &fo, sizeof(fo), &off, 1, 0, NULL,
		       NULL) == BR_TRANSACTION_COMPLETE);
	CHECK(send_txn(&c, BC_TRANSACTION, CODE_HOLD, TF_ONE_WAY, &fo, sizeof(fo), &off, 1, 0, NULL,
		       NULL) == BR_TRANSACTION_COMPLETE);
	sync_post(&h->sent, 1);
	pause();
	return 0;
}

static void peers_dying_with_descriptors_in_flight(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct holder h;
	struct manager m = { 0 };
	pid_t sender;
	int p[2];

	(void)state;
	manager_start(&m, true);
	assert_int_equal(pipe(p), 0);
	h.fd = p[1];
	sync_init(&h.sent);
	sender = spawn(oneway_sender_main, &h);
	assert_int_equal(sync_wait(&h.sent, 10000), 1);
	assert_int_equal(sync_wait(&m.ready, 10000), 2); /* the manager holds one */
	assert_true(ubd_open_fds(&D) > fds_before);	 /* the queued one's copy */
	kill(sender, SIGKILL);
	kill(m.pid, SIGKILL);
	assert_int_equal(reap(sender, 5000), -1);
	assert_int_equal(reap(m.pid, 5000), -1);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ubd_wait_idle(&D), 0);
	assert_int_equal(ubd_wait_fds(&D, fds_before), fds_before);
	assert_int_equal(ubd_stat(&D, "transaction: active"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fd_object_and_fd_array),
		cmocka_unit_test(fds_refused_without_accept_fds),
		cmocka_unit_test(receiver_without_room_for_a_descriptor),
		cmocka_unit_test(peers_dying_with_descriptors_in_flight),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, ubd_group_setup, ubd_group_teardown);
}
