/* SPDX-License-Identifier: MIT */
/*
 * The daemon under hostile or broken peers: garbage on every kind of
 * connection, extension requests with bad arguments, a client that never reads, peers killed in the middle of a
 * call, a signal during a blocked read or during the copy of the write part,
 * a page install that fails, and the
 * push copy path of a process the daemon cannot read. After each, the daemon
 * must still serve others, and its stats and descriptor count must come back
 * to where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "echo.h"
#include "harness.h"
#include "wire/packet.h"
#include "test-check.h"
#include "test-util.h"

/* Sends @len bytes and waits until the daemon hangs up (or answers). */
/* Sends @p; the daemon must hang up (after any error reply) within 5 s. */
static void send_expect_hangup(int fd, const void *p, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[256];
	ssize_t n = 1;

	send(fd, p, len, MSG_NOSIGNAL);
	while (n > 0 && poll(&pfd, 1, 5000) == 1)
		n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	assert_true(n <= 0); /* end of file (or a reset), not a timeout */
}

static void garbage_on_every_kind_of_connection(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct ubt_session s;
	uint8_t junk[64];
	int fd;

	(void)state;
	memset(junk, 0xa5, sizeof(junk));
	/* First message: too short, unknown, wrong sizes, bad token. */
	send_expect_hangup(ubd_connect_raw(D.sock), junk, 3);
	send_expect_hangup(ubd_connect_raw(D.sock), junk, sizeof(junk));
	{
		struct ubw_hello h = { { UBW_HELLO, 0 }, UBW_MAGIC, 99, 0, 0, 0, 0 };

		send_expect_hangup(ubd_connect_raw(D.sock), &h, sizeof(h)); /* bad version */
		send_expect_hangup(ubd_connect_raw(D.sock), &h, sizeof(h) - 1);
	}
	{
		struct ubw_attach a = { { UBW_ATTACH, 0 }, UBW_MAGIC, UBW_PROTOCOL_VERSION };

		memset(a.token, 0x42, sizeof(a.token));
		send_expect_hangup(ubd_connect_raw(D.sock), &a, sizeof(a)); /* nobody's token */
	}
	/* A message on a session connection ends that session. */
	assert_int_equal(ubt_session_open(&s, D.sock, true, true, &ubt_libc), 0);
	send_expect_hangup(s.sock, junk, sizeof(junk));
	close(s.poll_fd);

	/* Thread connections: malformed requests of every kind. */
	for (int kind = 0; kind < 11; kind++) {
		struct ubt_thread t;
		union {
			struct ubw_write_read wr;
			struct ubw_ioctl io;
			struct ubw_header h;
			uint8_t bytes[256];
		} m;
		size_t len = sizeof(m.wr);

		assert_int_equal(ubt_session_open(&s, D.sock, false, true, &ubt_libc), 0);
		assert_int_equal(ubt_thread_open(&t, &s), 0);
		memset(&m, 0, sizeof(m));
		m.wr.hdr.type = UBW_WRITE_READ;
		switch (kind) {
		case 0: /* body larger than anything allowed */
			m.wr.body_size = 1ull << 40;
			break;
		case 1: /* descriptors announced but none attached */
			m.wr.body_size = 8;
			m.wr.nfds = 2;
			len += 8;
			break;
		case 2: /* a segment running past the body */
			m.wr.body_size = 16;
			m.wr.nsegments = 1;
			m.bytes[sizeof(m.wr) + 8] = 0xff;
			len += 16;
			break;
		case 3: /* continuation without a start */
			m.h.type = UBW_WRITE_READ_MORE;
			len = sizeof(m.h) + 8;
			break;
		case 4: /* ioctl whose argument size does not match */
			m.io.hdr.type = UBW_IOCTL;
			m.io.cmd = BINDER_VERSION;
			m.io.size = 100;
			len = sizeof(m.io) + 4;
			break;
		case 5: /* unknown request */
			m.h.type = 0x777;
			len = sizeof(m.h);
			break;
		case 6: /* write section longer than the body */
			m.wr.body_size = 8;
			m.wr.write_len = 64;
			len += 8;
			break;
		case 7: /* map request cut short */
			m.h.type = UBW_MMAP;
			len = sizeof(struct ubw_mmap) - 1;
			break;
		case 8: /* outbox request with trailing bytes */
			m.h.type = UBW_OUTBOX;
			len = sizeof(struct ubw_outbox) + 1;
			break;
		case 9: /* map-done request cut short */
			m.h.type = UBW_MMAP_DONE;
			len = sizeof(struct ubw_header);
			break;
		case 10: /* fd fix-up announcing more numbers than it carries */
			m.h.type = UBW_FD_FIXUP;
			m.bytes[sizeof(struct ubw_header)] = 3;
			len = sizeof(struct ubw_fd_fixup) + 4;
			break;
		}
		send_expect_hangup(t.sock, &m, len);
		t.sock = -1;
		ubt_thread_close(&t);
		ubt_session_close(&s);
	}
	/* An admin request whose argument size lies. */
	{
		struct ubw_admin_hello hello = { { UBW_ADMIN, 0 },
						 UBW_MAGIC,
						 UBW_PROTOCOL_VERSION };
		struct ubw_admin_request req = { .hdr = { UBW_ADMIN_REQUEST, 0 },
						 .op = UBW_ADMIN_STATS,
						 .arg_size = 10 };
		uint8_t reply[64];

		fd = ubd_connect_raw(D.sock);
		assert_int_equal(send(fd, &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
		assert_true(recv(fd, reply, sizeof(reply), 0) >=
			    (ssize_t)sizeof(struct ubw_header));
		send_expect_hangup(fd, &req, sizeof(req));
	}
	/* Unbounded garbage from many connections at once. */
	for (int i = 0; i < 50; i++) {
		fd = ubd_connect_raw(D.sock);
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)(k * 31 + i);
		send_expect_hangup(fd, junk, 1 + (size_t)i % sizeof(junk));
	}
	echo_assert_clean(&D, fds_before);
}

/* One request on a thread connection; returns the reply's error (a descriptor it brings is closed). */
static int raw_request(int sock, const void *req, size_t len, uint32_t type)
{
	union {
		struct ubw_header h;
		uint8_t bytes[64];
	} reply;
	int fd = -1, msg_flags;
	size_t nfds = 0;
	ssize_t n;

	assert_int_equal(send(sock, req, len, MSG_NOSIGNAL), (ssize_t)len);
	n = ubw_recv_packet(sock, reply.bytes, sizeof(reply), &fd, 1, &nfds, 0, &msg_flags);
	if (nfds)
		close(fd);
	assert_true(n >= (ssize_t)sizeof(reply.h));
	assert_int_equal(reply.h.type, type | UBW_REPLY);
	return reply.h.error;
}

/*
 * Well-formed ubinder extension requests with bad arguments or at the wrong
 * moment: each gets its error, the connection keeps working, and the daemon
 * holds nothing afterwards.
 */
static void bad_extension_requests(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ubw_outbox ob = { .hdr = { UBW_OUTBOX, 0 } };
	struct ubw_fd_fixup fix = { .hdr = { UBW_FD_FIXUP, 0 } };
	struct ubw_header intr = { UBW_INTERRUPT, 0 };
	struct binder_version v = { 0 };
	struct rc c;
	void *box;

	(void)state;
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	/* The outbox: a null or unaligned address, an empty, odd or oversize size. */
	ob.size = 4 * page;
	assert_int_equal(raw_request(c.t.sock, &ob, sizeof(ob), UBW_OUTBOX), -EINVAL);
	ob.addr = 0x10000 + 1;
	assert_int_equal(raw_request(c.t.sock, &ob, sizeof(ob), UBW_OUTBOX), -EINVAL);
	ob.addr = 0x10000;
	ob.size = 0;
	assert_int_equal(raw_request(c.t.sock, &ob, sizeof(ob), UBW_OUTBOX), -EINVAL);
	ob.size = page + 1;
	assert_int_equal(raw_request(c.t.sock, &ob, sizeof(ob), UBW_OUTBOX), -EINVAL);
	ob.size = UBW_MAX_OUTBOX + page;
	assert_int_equal(raw_request(c.t.sock, &ob, sizeof(ob), UBW_OUTBOX), -EINVAL);
	/* A second outbox. */
	assert_int_equal(ubt_outbox(&c.t, 4 * page, 0, &box), 0);
	assert_int_equal(ubt_outbox(&c.t, 4 * page, 0, &box), -EBUSY);
	/* Descriptor numbers nobody asked for. */
	assert_int_equal(raw_request(c.t.sock, &fix, sizeof(fix), UBW_FD_FIXUP), -EPROTO);
	/* An interrupt with nothing to interrupt is ignored: the next request is answered. */
	assert_int_equal(send(c.t.sock, &intr, sizeof(intr), MSG_NOSIGNAL), (ssize_t)sizeof(intr));
	assert_int_equal(rc_ioctl(&c, BINDER_VERSION, &v), 0);
	assert_int_equal(v.protocol_version, BINDER_CURRENT_PROTOCOL_VERSION);
	rc_close(&c);
	echo_assert_clean(&D, fds_before);
}

/* Admin requests the daemon does not know or cannot parse: -EINVAL, nothing armed. */
static void bad_admin_requests(void **state)
{
	static const char *const bad_faults[] = {
		"",
		"nonsense",
		"install",
		"install 1 0",
		"install 1 0 0",
		"install 1 0 4096",
		"install 1 0 12 0",
		"install x 0 12",
	};
	long failures = ubd_stat(&D, "install failures");
	char *text;

	(void)state;
	assert_int_equal(ubd_admin_status(&D, 0x999, 0, NULL, &text), -EINVAL);
	free(text);
	for (size_t i = 0; i < sizeof(bad_faults) / sizeof(bad_faults[0]); i++) {
		assert_int_equal(ubd_admin_status(&D, UBW_ADMIN_FAULT, 0, bad_faults[i], &text),
				 -EINVAL);
		free(text);
	}
	/* Nothing was armed: calls still install their pages. */
	echo_assert_clean(&D, ubd_settled_fds(&D));
	assert_int_equal(ubd_stat(&D, "install failures"), failures);
}

static void client_that_never_reads(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct ubw_write_read wr = { { UBW_WRITE_READ, 0 } };
	struct echo_manager m;
	struct ubt_session s;
	struct ubt_thread t;
	int sent = 0;

	(void)state;
	echo_start(&m, D.sock);
	assert_int_equal(ubt_session_open(&s, D.sock, false, true, &ubt_libc), 0);
	assert_int_equal(ubt_thread_open(&t, &s), 0);
	/* Requests without ever reading a reply, until the socket is full. */
	wr.body_size = 8;
	wr.write_len = 4;
	for (int i = 0; i < 100000; i++) {
		struct {
			struct ubw_write_read wr;
			uint32_t cmd, pad;
		} req = { wr, BC_ENTER_LOOPER, 0 };

		if (send(t.sock, &req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		sent++;
	}
	assert_true(sent > 0);
	/* Everyone else is still served. */
	assert_int_equal(echo_call(D.sock, 1000, 1, NULL), BR_REPLY);
	ubt_thread_close(&t);
	ubt_session_close(&s);
	echo_stop(&m, D.sock);
	echo_assert_clean(&D, fds_before);
}

struct caller {
	const char *sock;
	struct sync sent;
	uint32_t code;
};

static int caller_main(void *arg)
{
	struct caller *c = arg;
	struct cmdbuf w = { .len = 0 };
	uint8_t data[256] = { 0 };
	struct rc r;
	uint32_t cmd;

	CHECK(rc_open(&r, c->sock, 1 << 20) == 0);
	cb_txn(&w, BC_TRANSACTION, 0, c->code, 0, data, sizeof(data), NULL, 0);
	CHECK(rc_bwr(&r, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	sync_post(&c->sent, 1);
	CHECK(rc_wait_for(&r, &cmd, NULL) == 0);
	return cmd == BR_DEAD_REPLY ? 42 : cmd == BR_REPLY ? 0 : 1;
}

/* A manager and a caller whose call the manager holds; returns the caller's pid. */
static pid_t call_held_by_manager(struct echo_manager *m, struct caller *c)
{
	pid_t pid;

	echo_start(m, D.sock);
	sync_init(&c->sent);
	pid = spawn(caller_main, c);
	assert_int_equal(sync_wait(&m->ready, 10000), 2);
	return pid;
}

static void caller_killed_mid_call(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct caller c = { .sock = D.sock, .code = ECHO_HOLD };
	struct echo_manager m;
	pid_t pid;

	(void)state;
	pid = call_held_by_manager(&m, &c);
	kill(pid, SIGKILL);
	assert_int_equal(reap(pid, 5000), -1);
	sync_post(&m.go, 1); /* its reply now goes nowhere */
	echo_stop(&m, D.sock);
	echo_assert_clean(&D, fds_before);
}

static void manager_killed_mid_call(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct caller c = { .sock = D.sock, .code = ECHO_HOLD };
	/* Its process's death closes the serving thread's connection (or its session) first. */
	long exits = ubd_stat(&D, "dead reply server_thread_exit") +
		     ubd_stat(&D, "dead reply server_exit");
	struct echo_manager m;
	pid_t pid;

	(void)state;
	pid = call_held_by_manager(&m, &c);
	kill(m.pid, SIGKILL);
	assert_int_equal(reap(m.pid, 5000), -1);
	assert_int_equal(reap(pid, 10000), 42); /* BR_DEAD_REPLY */
	/* The daemon says which path sent it: the serving process went away. */
	assert_int_equal(ubd_stat(&D, "dead reply server_thread_exit") +
				 ubd_stat(&D, "dead reply server_exit"),
			 exits + 1);
	echo_assert_clean(&D, fds_before);
}

/*
 * A call to handle 0 with no context manager: BR_DEAD_REPLY, counted under
 * its cause for the daemon and for the calling process.
 */
static void dead_reply_without_manager_is_counted(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	long before = ubd_stat(&D, "dead reply no_manager");
	struct cmdbuf w = { .len = 0 };
	uint8_t data[8] = { 0 };
	uint32_t cmd = 0;
	struct rc c;

	(void)state;
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, sizeof(data), NULL, 0);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(rc_wait_for(&c, &cmd, NULL), 0);
	assert_int_equal(cmd, BR_DEAD_REPLY);
	assert_int_equal(ubd_stat(&D, "dead reply no_manager"), before + 1);
	assert_int_equal(ubd_proc_stat(&D, getpid(), "dead reply no_manager"), 1);
	assert_int_equal(ubd_proc_stat(&D, getpid(), "dead reply server_exit"), -1); /* none */
	rc_close(&c);
	echo_assert_clean(&D, fds_before);
}

static void on_signal(int sig)
{
	(void)sig;
}

static void signal_during_blocked_read(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct binder_write_read bwr = { 0 };
	uint32_t cmds[2] = { BC_ENTER_LOOPER, BC_EXIT_LOOPER };
	uint8_t rbuf[256];
	struct rc c;
	pid_t self = getpid();
	pid_t pid;
	int err;

	(void)state;
	sigaction(SIGUSR1, &sa, NULL);
	assert_int_equal(rc_open(&c, D.sock, 1 << 20), 0);
	/* A helper process signals us while we wait for work that never comes. */
	pid = fork();
	if (pid == 0) {
		poll(NULL, 0, 300);
		kill(self, SIGUSR1);
		_exit(0);
	}
	bwr.write_buffer = (uintptr_t)cmds;
	bwr.write_size = sizeof(cmds);
	bwr.read_buffer = (uintptr_t)rbuf;
	bwr.read_size = sizeof(rbuf);
	err = ubt_write_read(&c.t, &c.s, &bwr, false);
	assert_int_equal(err, -EINTR); /* even with SA_RESTART, as the kernel */
	assert_int_equal(bwr.write_consumed, sizeof(cmds));
	assert_int_equal(bwr.read_consumed, 0);
	assert_int_equal(reap(pid, 5000), 0);
	/* The thread works normally afterwards. */
	assert_int_equal(rc_ioctl(&c, BINDER_VERSION, &(struct binder_version){ 0 }), 0);
	rc_close(&c);
	echo_assert_clean(&D, fds_before);
}

struct slow_caller {
	struct rc c;
	const uint8_t *data; /* userfaultfd-backed: the daemon's copy blocks on it */
	size_t size;
	struct binder_write_read bwr;
	uint8_t rbuf[256];
	int err;
	struct sync done;
};

static void *slow_caller_main(void *arg)
{
	struct slow_caller *sc = arg;
	struct cmdbuf w = { .len = 0 };

	cb_txn(&w, BC_TRANSACTION, 0, ECHO_HOLD, 0, sc->data, sc->size, NULL, 0);
	sc->bwr.write_buffer = (uintptr_t)w.buf;
	sc->bwr.write_size = w.len;
	sc->bwr.read_buffer = (uintptr_t)sc->rbuf;
	sc->bwr.read_size = sizeof(sc->rbuf);
	sc->err = ubt_write_read(&sc->c.t, &sc->c.s, &sc->bwr, false);
	sync_post(&sc->done, 1);
	return NULL;
}

/*
 * A signal while the daemon still copies the write part (a call of 1 MiB,
 * read by a copy worker from memory whose faults we hold with userfaultfd):
 * the write part completes, and the read then returns EINTR at once, as the
 * kernel's binder_wait_for_work does with a signal pending. The call itself
 * goes on; its reply comes with the next read.
 */
static void signal_during_write_copy(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct sigaction sa = { .sa_handler = on_signal };
	struct uffdio_api api = { .api = UFFD_API };
	size_t size = 1 << 20;
	struct slow_caller sc = { .size = size };
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct pollfd pfd;
	struct uffd_msg msg;
	struct echo_manager m;
	pthread_t caller;
	uint8_t *data, *pattern;
	uint32_t cmd;
	int uffd;

	(void)state;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0) {
		if (uffd >= 0)
			close(uffd);
		skip(); /* userfaultfd unavailable here (kernel or sysctl) */
	}
	data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pattern = malloc(size);
	assert_non_null(pattern);
	assert_true(data != MAP_FAILED);
	for (size_t i = 0; i < size; i++)
		pattern[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(
		ioctl(uffd, UFFDIO_REGISTER,
		      &(struct uffdio_register){ .range = { .start = (uintptr_t)data, .len = size },
						 .mode = UFFDIO_REGISTER_MODE_MISSING }),
		0);
	sigaction(SIGUSR1, &sa, NULL);
	echo_start(&m, D.sock);
	assert_int_equal(rc_open(&sc.c, D.sock, 1 << 20), 0);
	sc.data = data;
	sync_init(&sc.done);
	assert_int_equal(pthread_create(&caller, NULL, slow_caller_main, &sc), 0);

	/* The copy worker faults on the first page: the write part is suspended. */
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(uffd, &msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);
	pthread_kill(caller, SIGUSR1);
	poll(NULL, 0, 200); /* lets the interrupt reach the daemon during the copy */
	assert_int_equal(ioctl(uffd, UFFDIO_COPY,
			       &(struct uffdio_copy){ .dst = (uintptr_t)data,
						      .src = (uintptr_t)pattern,
						      .len = size }),
			 0);

	/* The call reaches the manager, which holds its reply: only EINTR can end the read. */
	assert_int_equal(sync_wait(&m.ready, 10000), 2);
	assert_int_equal(sync_wait(&sc.done, 5000), 1);
	assert_int_equal(sc.err, -EINTR);
	assert_int_equal(sc.bwr.write_consumed, sc.bwr.write_size);
	assert_int_equal(sc.bwr.read_consumed, 0);
	pthread_join(caller, NULL);

	/* The next read gets the call's outcome. */
	sync_post(&m.go, 1);
	assert_int_equal(rc_wait_for(&sc.c, &cmd, &tr), 0);
	assert_int_equal(cmd, BR_REPLY);
	assert_int_equal(tr.data_size, 4096);
	assert_memory_equal((const void *)(uintptr_t)tr.data.ptr.buffer, pattern, 4096);
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	assert_int_equal(rc_bwr(&sc.c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	rc_close(&sc.c);
	echo_stop(&m, D.sock);
	close(uffd);
	munmap(data, size);
	free(pattern);
	echo_assert_clean(&D, fds_before);
}

static void install_failure_fails_the_call(void **state)
{
	int fds_before = ubd_settled_fds(&D);
	struct binder_extended_error ee = { 0 };
	long failures = ubd_stat(&D, "install failures");
	struct echo_manager m;

	(void)state;
	echo_start(&m, D.sock);
	/* The first install fails part-way; the retry after shrinking succeeds. */
	free(ubd_admin(&D, UBW_ADMIN_FAULT, 0, "install 1 1 12"));
	assert_int_equal(echo_call(D.sock, 3 * 4096, 1, NULL), BR_REPLY);
	/* Both the install and its retry fail: the call fails as the kernel's would. */
	free(ubd_admin(&D, UBW_ADMIN_SHRINK, -1, NULL));
	free(ubd_admin(&D, UBW_ADMIN_FAULT, 0, "install 1 0 12 2"));
	assert_int_equal(echo_call(D.sock, 100, 1, &ee), BR_FAILED_REPLY);
	assert_int_equal(ee.command, BR_FAILED_REPLY);
	assert_int_equal(ee.param, -ENOMEM);
	assert_true(ubd_stat(&D, "install failures") >= failures + 3);
	/* Nothing is stuck: the next call works. */
	assert_int_equal(echo_call(D.sock, 100, 1, NULL), BR_REPLY);
	echo_stop(&m, D.sock);
	echo_assert_clean(&D, fds_before);
}

struct pusher {
	const char *sock;
	size_t size;
};

static int pusher_main(void *arg)
{
	struct pusher *p = arg;

	/* Not dumpable: process_vm_readv on us is refused, whoever the daemon is. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return echo_call(p->sock, p->size, 1, NULL) == BR_REPLY ? 0 : 1;
}

static void push_path_of_a_megabyte(void **state)
{
	struct ubd d2;
	struct echo_manager m;
	struct pusher p = { .size = 1 << 20 };
	long inline_before;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to run the daemon as another uid */
	assert_int_equal(ubd_start_as(&d2, NULL, 65534), 0);
	p.sock = d2.sock;
	echo_start(&m, d2.sock);
	inline_before = ubd_stat(&d2, "copies inline");
	assert_int_equal(reap(spawn(pusher_main, &p), 30000), 0);
	assert_true(ubd_stat(&d2, "push-mode procs") >= 1);
	assert_true(ubd_stat(&d2, "copies inline") > inline_before);
	echo_stop(&m, d2.sock);
	assert_int_equal(ubd_wait_idle(&d2), 0);
	assert_int_equal(ubd_stop(&d2), 0);
}

int main(void)
{
	/* These tests write raw packets on thread sockets: the socket transport's
	 * framing. A ring's packets come only as its markers say (the ring's own
	 * hostile tests are tests/integration/test-ring*.c). */
	setenv("UBINDER_TRANSPORT", "socket", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(garbage_on_every_kind_of_connection),
		cmocka_unit_test(bad_extension_requests),
		cmocka_unit_test(bad_admin_requests),
		cmocka_unit_test(client_that_never_reads),
		cmocka_unit_test(caller_killed_mid_call),
		cmocka_unit_test(manager_killed_mid_call),
		cmocka_unit_test(dead_reply_without_manager_is_counted),
		cmocka_unit_test(signal_during_blocked_read),
		cmocka_unit_test(signal_during_write_copy),
		cmocka_unit_test(install_failure_fails_the_call),
		cmocka_unit_test(push_path_of_a_megabyte),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, ubd_group_setup, ubd_group_teardown);
}
