/* SPDX-License-Identifier: MIT */
/*
 * The transport against a real ubinderd: its extensions for native clients,
 * the outbox (ubt_outbox) and held completions (UBT_HOLD_COMPLETE); and its
 * system calls on descriptors and mappings, which go through the table the
 * session was opened with.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

static struct ubd daemon_under_test;

static int start_daemon(void **state)
{
	(void)state;
	return ubd_start(&daemon_under_test, NULL) == 0 ? 0 : -1;
}

static int stop_daemon(void **state)
{
	(void)state;
	return ubd_stop(&daemon_under_test) == 0 ? 0 : -1;
}

/* Reads once; returns the return codes in @codes (up to 8), their count. */
static int read_codes(struct rc *c, unsigned int flags, uint32_t *codes,
		      struct binder_transaction_data *tr)
{
	uint8_t buf[512];
	struct binder_write_read bwr = { .read_size = sizeof(buf), .read_buffer = (uintptr_t)buf };
	int n = 0;

	if (ubt_write_read_flags(&c->t, &c->s, &bwr, flags))
		return -1;
	for (size_t pos = 0; pos + 4 <= bwr.read_consumed && n < 8;) {
		memcpy(&codes[n], buf + pos, 4);
		pos += 4 + _IOC_SIZE(codes[n]);
		if (codes[n] == BR_TRANSACTION && tr)
			memcpy(tr, buf + pos - sizeof(*tr), sizeof(*tr));
		n++;
	}
	return n;
}

struct manager {
	struct sync ready;
	struct sync done;
};

/* The manager checks the call's bytes, replies with a held completion, and
 * expects that completion in the same read as the next call. */
static int manager_main(void *arg)
{
	struct manager *m = arg;
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t codes[8], cmd;
	struct rc c;
	int n;

	CHECK(rc_open_manager(&c, daemon_under_test.sock, 1 << 20, NULL) == 0);
	sync_post(&m->ready, 1);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0 && cmd == BR_TRANSACTION);
	CHECK(tr.data_size == 65536);
	for (size_t i = 0; i < tr.data_size; i++)
		CHECK(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[i] == (uint8_t)(i * 13));
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	cb_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	/* Held: the read waits for the next call, completion first. */
	n = read_codes(&c, UBT_HOLD_COMPLETE, codes, &tr);
	CHECK(n == 3 && codes[0] == BR_NOOP && codes[1] == BR_TRANSACTION_COMPLETE &&
	      codes[2] == BR_TRANSACTION && tr.code == 2);
	sync_post(&m->done, 1);
	rc_close(&c);
	return 0;
}

static void outbox_and_held_completion(void **state)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct manager m;
	struct rc c;
	uint8_t *ob;
	void *second;
	uint32_t cmd;
	pid_t pid;

	(void)state;
	sync_init(&m.ready);
	sync_init(&m.done);
	pid = spawn(manager_main, &m);
	assert_int_equal(sync_wait(&m.ready, 10000), 1);
	assert_int_equal(rc_open(&c, daemon_under_test.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, 12345, 0, &second), -EINVAL);
	assert_int_equal(ubt_outbox(&c.t, 1 << 20, 0, (void **)&ob), 0);
	assert_int_equal(ubt_outbox(&c.t, 1 << 20, 0, &second), -EBUSY);
	for (size_t i = 0; i < 65536; i++)
		ob[i] = (uint8_t)(i * 13);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, ob, 65536, NULL, 0);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(rc_wait_for(&c, &cmd, &tr), 0);
	assert_int_equal(cmd, BR_REPLY);
	w.len = 0;
	cb_txn(&w, BC_TRANSACTION, 0, 2, TF_ONE_WAY, NULL, 0, NULL, 0);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(sync_wait(&m.done, 10000), 1);
	assert_int_equal(reap(pid, 10000), 0);
	rc_close(&c);
}

/* The transport's calls through the table, recorded. */
#define MAX_CALLS 64
static struct {
	int closed[MAX_CALLS];
	size_t nclosed;
	int fcntl_fds[MAX_CALLS];
	size_t nfcntl;
	uintptr_t mapped[MAX_CALLS];
	size_t nmapped;
	uintptr_t unmapped[MAX_CALLS];
	size_t nunmapped;
	size_t nfstat; /* the socket directory's checks */
} calls;

static void record(uintptr_t *list, size_t *n, uintptr_t v)
{
	if (*n < MAX_CALLS)
		list[(*n)++] = v;
}

static size_t count(const uintptr_t *list, size_t n, uintptr_t v)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += list[i] == v;
	return k;
}

static bool has_fd(const int *list, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == fd)
			return true;
	}
	return false;
}

static int recording_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open(path, flags, mode);
}

static int recording_close(int fd)
{
	if (calls.nclosed < MAX_CALLS)
		calls.closed[calls.nclosed++] = fd;
	return close(fd);
}

static int recording_fstat(int fd, struct stat *st)
{
	calls.nfstat++;
	return fstat(fd, st);
}

static int recording_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (calls.nfcntl < MAX_CALLS)
		calls.fcntl_fds[calls.nfcntl++] = fd;
	return fcntl(fd, cmd, arg);
}

static void *recording_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(addr, len, prot, flags, fd, off);

	record(calls.mapped, &calls.nmapped, (uintptr_t)p);
	return p;
}

static int recording_munmap(void *addr, size_t len)
{
	record(calls.unmapped, &calls.nunmapped, (uintptr_t)addr);
	return munmap(addr, len);
}

static const struct ubt_sys recording = {
	.open = recording_open,
	.close = recording_close,
	.fcntl = recording_fcntl,
	.mmap = recording_mmap,
	.munmap = recording_munmap,
	.fstat = recording_fstat,
};

/* Each kind of call the transport makes on descriptors and mappings goes
 * through the session's table. */
static void system_calls_through_the_table(void **state)
{
	struct binder_fd_object fdo = { .hdr.type = BINDER_TYPE_FD };
	binder_size_t offset = 0;
	struct binder_write_read bwr = { 0 };
	struct cmdbuf w = { .len = 0 };
	struct ubt_session s;
	struct ubt_thread t;
	int sock, poll_fd, thread_sock, pipe_fds[2];
	size_t closed_before;
	void *region, *outbox;

	(void)state;
	memset(&calls, 0, sizeof(calls));
	assert_int_equal(ubt_session_open(&s, daemon_under_test.sock, true, true, &recording), 0);
	assert_int_equal(ubt_thread_open(&t, &s), 0);
	/* The socket's directory is checked before each connection. */
	assert_int_equal(calls.nfstat, 2);

	/* The region: a reservation, then the daemon's memfd over it, closed. */
	closed_before = calls.nclosed;
	assert_int_equal(ubt_mmap(&t, NULL, 1 << 20, false, &region), 0);
	assert_int_equal(count(calls.mapped, calls.nmapped, (uintptr_t)region), 2);
	assert_true(calls.nclosed > closed_before);
	assert_int_equal(ubt_outbox(&t, 1 << 20, 0, &outbox), 0);
	assert_int_equal(count(calls.mapped, calls.nmapped, (uintptr_t)outbox), 2);

	/* A descriptor named by a transaction is checked before it is attached. */
	assert_int_equal(pipe(pipe_fds), 0);
	fdo.fd = (uint32_t)pipe_fds[0];
	cb_txn(&w, BC_TRANSACTION, 0, 1, TF_ONE_WAY, &fdo, sizeof(fdo), &offset, sizeof(offset));
	bwr.write_buffer = (uintptr_t)w.buf;
	bwr.write_size = w.len;
	(void)ubt_write_read(&t, &s, &bwr, false);
	assert_int_equal(bwr.write_consumed, w.len);
	assert_true(has_fd(calls.fcntl_fds, calls.nfcntl, pipe_fds[0]));

	assert_int_equal(ubt_munmap(&t, region, 1 << 20), 0);
	assert_int_equal(count(calls.unmapped, calls.nunmapped, (uintptr_t)region), 1);

	sock = s.sock;
	poll_fd = s.poll_fd;
	thread_sock = t.sock;
	ubt_thread_close(&t);
	ubt_session_close(&s);
	assert_true(has_fd(calls.closed, calls.nclosed, thread_sock));
	assert_true(has_fd(calls.closed, calls.nclosed, sock));
	assert_true(has_fd(calls.closed, calls.nclosed, poll_fd));
	munmap(outbox, 1 << 20);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(outbox_and_held_completion, start_daemon,
						stop_daemon),
		cmocka_unit_test_setup_teardown(system_calls_through_the_table, start_daemon,
						stop_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
