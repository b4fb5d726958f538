/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ubd D;

int ubd_group_setup(void **state)
{
	(void)state;
	return ubd_start(&D, NULL);
}

int ubd_group_teardown(void **state)
{
	(void)state;
	return ubd_stop(&D) == 0 ? 0 : -1;
}

int ubd_start(struct ubd *d, const char *const *args)
{
	return ubd_start_as(d, args, (uid_t)-1);
}

int ubd_open_fds(const struct ubd *d)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

int ubd_settled_fds(const struct ubd *d)
{
	int last = -1, n;

	ubd_wait_idle(d);
	for (int i = 0; i < 100; i++) {
		n = ubd_open_fds(d);
		if (n == last)
			return n;
		last = n;
		poll(NULL, 0, 20);
	}
	return last;
}

int ubd_wait_fds(const struct ubd *d, int expected)
{
	int n = -1;

	/* Connections a test just closed may not be reaped by the daemon yet. */
	for (int i = 0; i < 200; i++) {
		n = ubd_open_fds(d);
		if (n == expected)
			break;
		poll(NULL, 0, 10);
	}
	return n;
}

int ubd_connect_raw(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

long ubd_wait_idle(const struct ubd *d)
{
	long procs = -1;

	for (int i = 0; i < 500; i++) {
		procs = ubd_stat(d, "procs");
		if (procs == 0)
			break;
		poll(NULL, 0, 10);
	}
	return procs;
}

/* Copies @from to @to, mode 0755: 0 or -1. */
static int copy_program(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, err = -1;
	ssize_t n = -1;

	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (out >= 0 && n == 0 && fchmod(out, 0755) == 0)
		err = 0;
	if (out >= 0 && close(out) < 0)
		err = -1;
	if (in >= 0)
		close(in);
	return err;
}

int ubd_start_as(struct ubd *d, const char *const *args, uid_t uid)
{
	const char *bin = getenv("UBINDERD");
	char copy[sizeof(d->dir) + 16]; /* the daemon of another uid runs from it */
	const char *argv[32];
	pid_t parent;
	int n = 0;
	long deadline;

	memset(d, 0, sizeof(*d));
	if (!bin)
		bin = "ubinderd";
	snprintf(d->dir, sizeof(d->dir), "/tmp/ubinder-test-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	/* As ubinderd makes a root daemon's directory: other uids may connect. */
	if (geteuid() == 0 && chmod(d->dir, 0755) < 0)
		return -1;
	if (uid != (uid_t)-1) {
		char uid_text[16];

		if (chown(d->dir, uid, uid) < 0)
			return -1;
		/* The build may lie in a directory only we can enter (a clone in
		 * mktemp -d): the daemon runs from a copy beside its socket. */
		snprintf(copy, sizeof(copy), "%s/ubinderd", d->dir);
		if (copy_program(bin, copy) < 0)
			return -1;
		bin = copy;
		/* This process's clients may trust a daemon of that uid. */
		snprintf(uid_text, sizeof(uid_text), "%u", (unsigned)uid);
		setenv("UBINDER_DAEMON_UID", uid_text, 1);
	}
	snprintf(d->sock, sizeof(d->sock), "%s/binder", d->dir);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	for (int i = 0; args && args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	parent = getpid();
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		if (uid != (uid_t)-1 && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		/* A test that fails an assertion exits without ubd_stop: its daemon
		 * goes with it, instead of holding the test's output open (after
		 * setuid, which clears the setting). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		execv(bin, (char *const *)argv);
		perror("exec ubinderd");
		_exit(127);
	}
	/* Ready when the socket accepts. */
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		int status;

		strcpy(sa.sun_path, d->sock);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
		poll(NULL, 0, 10);
	}
	ubd_stop(d);
	return -1;
}

static void remove_dir(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/binder", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ubinderd", dir); /* ubd_start_as's copy */
	unlink(path);
	rmdir(dir);
}

int ubd_stop(struct ubd *d)
{
	int status = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		status = reap(d->pid, 5000);
		d->pid = 0;
	}
	remove_dir(d->dir);
	return status;
}

int ubd_admin_status(const struct ubd *d, uint32_t op, int64_t arg, const char *text,
		     char **reply_text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ubw_admin_hello hello = { { UBW_ADMIN, 0 }, UBW_MAGIC, UBW_PROTOCOL_VERSION };
	struct {
		struct ubw_admin_request r;
		char arg[256];
	} req = { 0 };
	static uint8_t buf[UBW_MAX_MESSAGE];
	char *out = NULL;
	size_t len = 0;
	int fd, error = 0;

	*reply_text = NULL;
	strcpy(sa.sun_path, d->sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	if (send(fd, &hello, sizeof(hello), 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0 ||
	    ((struct ubw_header *)buf)->error)
		goto fail;
	req.r.hdr.type = UBW_ADMIN_REQUEST;
	req.r.op = op;
	req.r.arg = arg;
	req.r.arg_size = text ? (uint32_t)strlen(text) : 0;
	if (text)
		memcpy(req.arg, text, req.r.arg_size);
	if (send(fd, &req, sizeof(req.r) + req.r.arg_size, 0) < 0)
		goto fail;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct ubw_admin_reply *r = (void *)buf;
		char *grown;

		if (n < (ssize_t)sizeof(*r))
			goto fail;
		error = r->hdr.error;
		grown = realloc(out, len + r->text_size + 1);
		if (!grown)
			goto fail;
		out = grown;
		memcpy(out + len, r + 1, r->text_size);
		len += r->text_size;
		out[len] = '\0';
		if (r->flags & UBW_ADMIN_LAST)
			break;
	}
	close(fd);
	*reply_text = out;
	return error;
fail:
	free(out);
	close(fd);
	return -EPIPE;
}

char *ubd_admin(const struct ubd *d, uint32_t op, int64_t arg, const char *text)
{
	char *out;

	(void)ubd_admin_status(d, op, arg, text, &out);
	return out;
}

/* The integer after "KEY" (and any ':' or spaces) at the start of a line of @text. */
static long find_number(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		while (*line == ' ')
			line++;
		if (strncmp(line, key, klen) == 0) {
			const char *p = line + klen;

			while (*p == ':' || *p == ' ')
				p++;
			if (*p >= '0' && *p <= '9')
				return strtol(p, NULL, 10);
		}
	}
	return -1;
}

/* The number after @key in the answer to admin request @op (@arg); -1 if none. */
static long admin_number(const struct ubd *d, uint32_t op, int64_t arg, const char *key)
{
	char *text = ubd_admin(d, op, arg, NULL);
	long v;

	if (!text)
		return -1;
	v = find_number(text, key);
	free(text);
	return v;
}

long ubd_stat(const struct ubd *d, const char *key)
{
	return admin_number(d, UBW_ADMIN_STATS, 0, key);
}

long ubd_proc_stat(const struct ubd *d, pid_t pid, const char *key)
{
	return admin_number(d, UBW_ADMIN_PROC, pid, key);
}

int rc_open(struct rc *c, const char *sock, size_t map_size)
{
	struct binder_version v;
	int err;

	memset(c, 0, sizeof(*c));
	err = ubt_session_open(&c->s, sock, false, true, &ubt_libc);
	if (err)
		return err;
	err = ubt_thread_open(&c->t, &c->s);
	if (err)
		goto fail;
	/* As libbinder: the first ioctl of a thread never blocks anyway. */
	err = ubt_ioctl(&c->t, &c->s, BINDER_VERSION, &v);
	if (err)
		goto fail;
	if (map_size) {
		err = ubt_mmap(&c->t, NULL, map_size, false, &c->map);
		if (err)
			goto fail;
		c->map_size = map_size;
	}
	return 0;
fail:
	rc_close(c);
	return err;
}

void rc_close(struct rc *c)
{
	if (c->map)
		munmap(c->map, c->map_size);
	ubt_thread_close(&c->t);
	ubt_session_close(&c->s);
	memset(c, 0, sizeof(*c));
}

int rc_bwr(struct rc *c, const void *w, size_t wlen, void *r, size_t rlen, uint64_t *wc,
	   uint64_t *rcons)
{
	struct binder_write_read bwr = {
		.write_size = wlen,
		.write_buffer = (uintptr_t)w,
		.read_size = rlen,
		.read_buffer = (uintptr_t)r,
	};
	int err = ubt_write_read(&c->t, &c->s, &bwr, false);

	if (wc)
		*wc = bwr.write_consumed;
	if (rcons)
		*rcons = bwr.read_consumed;
	return err;
}

int rc_ioctl(struct rc *c, unsigned long cmd, void *arg)
{
	return ubt_ioctl(&c->t, &c->s, cmd, arg);
}

int rc_open_manager(struct rc *c, const char *sock, size_t map_size, struct flat_binder_object *mgr)
{
	uint32_t enter = BC_ENTER_LOOPER;
	int err = rc_open(c, sock, map_size);

	if (!err)
		err = mgr ? rc_ioctl(c, BINDER_SET_CONTEXT_MGR_EXT, mgr)
			  : rc_ioctl(c, BINDER_SET_CONTEXT_MGR, NULL);
	if (!err)
		err = rc_bwr(c, &enter, sizeof(enter), NULL, 0, NULL, NULL);
	return err;
}

void cb_u32(struct cmdbuf *b, uint32_t v)
{
	cb_bytes(b, &v, sizeof(v));
}

void cb_u64(struct cmdbuf *b, uint64_t v)
{
	cb_bytes(b, &v, sizeof(v));
}

void cb_bytes(struct cmdbuf *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->buf))
		abort();
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void cb_txn(struct cmdbuf *b, uint32_t cmd, uint32_t handle, uint32_t code, uint32_t flags,
	    const void *data, size_t data_size, const void *offsets, size_t offsets_size)
{
	struct binder_transaction_data tr = { 0 };

	tr.target.handle = handle;
	tr.code = code;
	tr.flags = flags;
	tr.data_size = data_size;
	tr.offsets_size = offsets_size;
	tr.data.ptr.buffer = (uintptr_t)data;
	tr.data.ptr.offsets = (uintptr_t)offsets;
	cb_u32(b, cmd);
	cb_bytes(b, &tr, sizeof(tr));
}

int rc_wait_for(struct rc *c, uint32_t *cmd, struct binder_transaction_data *tr)
{
	uint8_t buf[512];

	for (;;) {
		uint64_t rcons = 0;
		size_t pos = 0;
		int err = rc_bwr(c, NULL, 0, buf, sizeof(buf), NULL, &rcons);

		if (err)
			return err;
		while (pos + 4 <= rcons) {
			uint32_t code;

			memcpy(&code, buf + pos, 4);
			pos += 4;
			switch (code) {
			case BR_NOOP:
			case BR_TRANSACTION_COMPLETE:
			case BR_SPAWN_LOOPER:
				continue;
			case BR_TRANSACTION:
			case BR_REPLY:
				if (tr)
					memcpy(tr, buf + pos, sizeof(*tr));
				*cmd = code;
				return 0;
			default:
				*cmd = code;
				return 0;
			}
		}
	}
}

long proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* The command name may hold anything: the fields start after its last ')'. */
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return -1;
	return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

pid_t spawn(int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* The test runner's crash handlers must not run the suite on in the child. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		alarm(60); /* no child outlives a hung test */
		_exit(fn(arg));
	}
	return pid;
}

int reap(pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		poll(NULL, 0, 5);
	}
}

void sync_init(struct sync *s)
{
	if (pipe2(s->fds, O_CLOEXEC) < 0)
		abort();
}

void sync_post(struct sync *s, uint32_t value)
{
	if (write(s->fds[1], &value, sizeof(value)) != sizeof(value))
		abort();
}

uint32_t sync_wait(struct sync *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->fds[0], .events = POLLIN };
	uint32_t value;

	if (poll(&p, 1, timeout_ms) <= 0 || read(s->fds[0], &value, sizeof(value)) != sizeof(value))
		return UINT32_MAX;
	return value;
}

const char *br_name(uint32_t cmd)
{
	switch (cmd) {
	case BR_ERROR:
		return "BR_ERROR";
	case BR_OK:
		return "BR_OK";
	case BR_TRANSACTION:
		return "BR_TRANSACTION";
	case BR_TRANSACTION_SEC_CTX:
		return "BR_TRANSACTION_SEC_CTX";
	case BR_REPLY:
		return "BR_REPLY";
	case BR_DEAD_REPLY:
		return "BR_DEAD_REPLY";
	case BR_TRANSACTION_COMPLETE:
		return "BR_TRANSACTION_COMPLETE";
	case BR_INCREFS:
		return "BR_INCREFS";
	case BR_ACQUIRE:
		return "BR_ACQUIRE";
	case BR_RELEASE:
		return "BR_RELEASE";
	case BR_DECREFS:
		return "BR_DECREFS";
	case BR_NOOP:
		return "BR_NOOP";
	case BR_SPAWN_LOOPER:
		return "BR_SPAWN_LOOPER";
	case BR_DEAD_BINDER:
		return "BR_DEAD_BINDER";
	case BR_CLEAR_DEATH_NOTIFICATION_DONE:
		return "BR_CLEAR_DEATH_NOTIFICATION_DONE";
	case BR_FAILED_REPLY:
		return "BR_FAILED_REPLY";
	case BR_FROZEN_REPLY:
		return "BR_FROZEN_REPLY";
	case BR_ONEWAY_SPAM_SUSPECT:
		return "BR_ONEWAY_SPAM_SUSPECT";
	default:
		return "BR_?";
	}
}
