/* SPDX-License-Identifier: MIT */
/* Raw Binder protocol helpers for the conformance programs (see conf.h). */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool show_buffer_offsets;

static char proc_role[32] = "?";
static __thread char thread_role[32];
static unsigned time_limit = 20;

struct pid_entry {
	pid_t pid;
	char name[16];
};
static struct pid_entry pids[32];

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static const char *cur_role(void)
{
	return thread_role[0] ? thread_role : proc_role;
}

static void on_alarm(int sig)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s: TIMEOUT\n", cur_role());
	(void)sig;
	if (n > 0)
		write_all(1, line, (size_t)n);
	_exit(124);
}

void conf_role(const char *role)
{
	snprintf(proc_role, sizeof(proc_role), "%s", role);
	thread_role[0] = 0;
	pid_name(getpid(), role);
}

void conf_thread_role(const char *role)
{
	snprintf(thread_role, sizeof(thread_role), "%s", role);
}

void conf_start(const char *role, unsigned seconds)
{
	time_limit = seconds;
	conf_role(role);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm(seconds);
}

__attribute__((format(printf, 2, 0))) static void vsay(const char *tag, const char *fmt, va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s: %s", cur_role(), tag);
	if (n < 0)
		return;
	int k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (k < 0)
		return;
	size_t len = strlen(line);
	line[len++] = '\n';
	write_all(1, line, len);
}

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("FATAL: ", fmt, ap);
	va_end(ap);
	_exit(1);
}

const char *errname(int err)
{
	static __thread char buf[4][24];
	static __thread int slot;
	if (err == 0)
		return "0";
	const char *s = strerrorname_np(err);
	if (s)
		return s;
	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof(buf[slot]), "errno%d", err);
	return buf[slot];
}

const char *res(int r)
{
	return r == 0 ? "0" : r < 0 ? errname(-r) : "positive";
}

#define NAME(x) \
	case x: \
		return #x
const char *brname(uint32_t cmd)
{
	static __thread char buf[32];
	switch (cmd) {
		NAME(BR_ERROR);
		NAME(BR_OK);
		NAME(BR_TRANSACTION_SEC_CTX);
		NAME(BR_TRANSACTION);
		NAME(BR_REPLY);
		NAME(BR_ACQUIRE_RESULT);
		NAME(BR_DEAD_REPLY);
		NAME(BR_TRANSACTION_COMPLETE);
		NAME(BR_INCREFS);
		NAME(BR_ACQUIRE);
		NAME(BR_RELEASE);
		NAME(BR_DECREFS);
		NAME(BR_ATTEMPT_ACQUIRE);
		NAME(BR_NOOP);
		NAME(BR_SPAWN_LOOPER);
		NAME(BR_FINISHED);
		NAME(BR_DEAD_BINDER);
		NAME(BR_CLEAR_DEATH_NOTIFICATION_DONE);
		NAME(BR_FAILED_REPLY);
		NAME(BR_FROZEN_REPLY);
		NAME(BR_ONEWAY_SPAM_SUSPECT);
	}
	snprintf(buf, sizeof(buf), "BR_?%#x", cmd);
	return buf;
}

const char *bcname(uint32_t cmd)
{
	static __thread char buf[32];
	switch (cmd) {
		NAME(BC_TRANSACTION);
		NAME(BC_REPLY);
		NAME(BC_ACQUIRE_RESULT);
		NAME(BC_FREE_BUFFER);
		NAME(BC_INCREFS);
		NAME(BC_ACQUIRE);
		NAME(BC_RELEASE);
		NAME(BC_DECREFS);
		NAME(BC_INCREFS_DONE);
		NAME(BC_ACQUIRE_DONE);
		NAME(BC_ATTEMPT_ACQUIRE);
		NAME(BC_REGISTER_LOOPER);
		NAME(BC_ENTER_LOOPER);
		NAME(BC_EXIT_LOOPER);
		NAME(BC_REQUEST_DEATH_NOTIFICATION);
		NAME(BC_CLEAR_DEATH_NOTIFICATION);
		NAME(BC_DEAD_BINDER_DONE);
		NAME(BC_TRANSACTION_SG);
		NAME(BC_REPLY_SG);
	}
	snprintf(buf, sizeof(buf), "BC_?%#x", cmd);
	return buf;
}

const char *typename_(uint32_t type)
{
	static __thread char buf[32];
	switch (type) {
	case BINDER_TYPE_BINDER:
		return "BINDER";
	case BINDER_TYPE_WEAK_BINDER:
		return "WEAK_BINDER";
	case BINDER_TYPE_HANDLE:
		return "HANDLE";
	case BINDER_TYPE_WEAK_HANDLE:
		return "WEAK_HANDLE";
	case BINDER_TYPE_FD:
		return "FD";
	case BINDER_TYPE_FDA:
		return "FDA";
	case BINDER_TYPE_PTR:
		return "PTR";
	}
	snprintf(buf, sizeof(buf), "type?%#x", type);
	return buf;
}
#undef NAME

void pid_name(pid_t pid, const char *name)
{
	size_t free_slot = sizeof(pids) / sizeof(pids[0]);
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		if (pids[i].pid == pid ||
		    (pids[i].pid == 0 && free_slot == sizeof(pids) / sizeof(pids[0])))
			free_slot = i;
		if (pids[i].pid == pid)
			break;
	}
	if (free_slot == sizeof(pids) / sizeof(pids[0]))
		fail("too many named pids");
	pids[free_slot].pid = pid;
	snprintf(pids[free_slot].name, sizeof(pids[free_slot].name), "%s", name);
}

const char *pid_str(pid_t pid)
{
	if (pid == 0)
		return "0";
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++)
		if (pids[i].pid == pid)
			return pids[i].name;
	return "unknown";
}

static sigjmp_buf fault_jb;

static void on_fault(int sig)
{
	siglongjmp(fault_jb, sig);
}

int read_fault(const void *addr)
{
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	int sig = sigsetjmp(fault_jb, 1);
	if (sig == 0) {
		volatile uint8_t v = *(const volatile uint8_t *)addr;
		(void)v;
	}
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	return sig;
}

void msleep(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

void chan_init(struct chan *c)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) < 0)
		fail("socketpair: %s", errname(errno));
}

void put(struct chan *c, int end, uint64_t v)
{
	if (write(c->fd[end], &v, sizeof(v)) != (ssize_t)sizeof(v))
		fail("chan put: %s", errname(errno));
}

uint64_t get(struct chan *c, int end)
{
	uint64_t v;
	ssize_t n;
	do {
		n = read(c->fd[end], &v, sizeof(v));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(v))
		fail("chan get: %s", n == 0 ? "peer gone" : errname(errno));
	return v;
}

pid_t spawn(const char *role, void (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (pid == 0) {
		conf_role(role);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		alarm(time_limit);
		fn(arg);
		_exit(0);
	}
	pid_name(pid, role);
	return pid;
}

/* waitpid() retried on EINTR; fatal on any other error. */
static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			fail("waitpid: %s", errname(errno));
	}
	return st;
}

int reap(pid_t pid)
{
	int st = wait_status(pid);
	if (WIFEXITED(st)) {
		if (WEXITSTATUS(st) != 0)
			say("child %s exited with status %d", pid_str(pid), WEXITSTATUS(st));
		return WEXITSTATUS(st);
	}
	say("child %s was killed by signal %d", pid_str(pid), WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_status(pid);
}

bool conf_int_requests;

/* Every ioctl of the helpers: the request as is, or as an int. */
static int conf_ioctl(int fd, unsigned long req, void *arg)
{
	if (conf_int_requests)
		return ioctl(fd, (int)req, arg); /* sign-extended to unsigned long */
	return ioctl(fd, req, arg);
}

void bd_open(struct bdev *b, const char *path, size_t map_size)
{
	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		fail("open %s: %s", path, errname(errno));
	if (map_size) {
		int flags = MAP_PRIVATE | (conf_int_requests ? MAP_NORESERVE : 0);
		void *m = mmap(NULL, map_size, PROT_READ, flags, b->fd, 0);
		if (m == MAP_FAILED)
			fail("mmap %s: %s", path, errname(errno));
		b->map = m;
		b->size = map_size;
	}
	struct binder_version v;
	if (conf_ioctl(b->fd, BINDER_VERSION, &v) < 0 ||
	    v.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION)
		fail("BINDER_VERSION: %s", errname(errno));
}

void bd_close(struct bdev *b)
{
	if (b->map)
		munmap(b->map, b->size);
	close(b->fd);
	b->map = NULL;
	b->fd = -1;
}

int xioctl(int fd, unsigned long req, void *arg)
{
	int r = conf_ioctl(fd, req, arg);
	if (r < 0)
		return -errno;
	return r;
}

/* Issues req (named name) with arg, retried every 10 ms for up to 3 s while
 * it fails with EBUSY. Both set-context-manager ioctls only read arg. */
static void set_ctxmgr_retrying(struct bdev *b, unsigned long req, void *arg, const char *name)
{
	int r = 0;
	for (int i = 0; i < 300; i++) {
		r = xioctl(b->fd, req, arg);
		if (r != -EBUSY)
			break;
		msleep(10);
	}
	if (r)
		fail("%s: %s", name, res(r));
}

void become_ctxmgr(struct bdev *b)
{
	int32_t zero = 0;
	set_ctxmgr_retrying(b, BINDER_SET_CONTEXT_MGR, &zero, "BINDER_SET_CONTEXT_MGR");
}

void become_ctxmgr_ext(struct bdev *b, uint64_t ptr, uint64_t cookie, uint32_t flags)
{
	struct flat_binder_object o = fbo_binder(ptr, cookie, flags);
	set_ctxmgr_retrying(b, BINDER_SET_CONTEXT_MGR_EXT, &o, "BINDER_SET_CONTEXT_MGR_EXT");
}

void open_ctxmgr(struct bdev *b)
{
	bd_open(b, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(b);
	enter_looper(b);
}

const char *map_pos(const struct bdev *b, uint64_t addr)
{
	static __thread char buf[4][40];
	static __thread int slot;
	slot = (slot + 1) % 4;
	if (b && b->map && addr >= (uintptr_t)b->map && addr < (uintptr_t)b->map + b->size) {
		if (show_buffer_offsets)
			snprintf(buf[slot], sizeof(buf[slot]), "map+%#llx",
				 (unsigned long long)(addr - (uintptr_t)b->map));
		else
			snprintf(buf[slot], sizeof(buf[slot]), "in-map");
	} else if (addr == 0) {
		snprintf(buf[slot], sizeof(buf[slot]), "null");
	} else {
		snprintf(buf[slot], sizeof(buf[slot]), "outside");
	}
	return buf[slot];
}

void w_reset(struct wbuf *w)
{
	w->len = 0;
}

void w_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->b))
		fail("command buffer overflow");
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void w_u32(struct wbuf *w, uint32_t v)
{
	w_bytes(w, &v, sizeof(v));
}

void w_u64(struct wbuf *w, uint64_t v)
{
	w_bytes(w, &v, sizeof(v));
}

void w_cmd(struct wbuf *w, uint32_t bc)
{
	w_u32(w, bc);
}

static struct binder_transaction_data mk_txn(uint32_t handle, uint32_t code, uint32_t flags,
					     const void *data, size_t data_size, const void *offs,
					     size_t offs_size)
{
	struct binder_transaction_data t;
	memset(&t, 0, sizeof(t));
	t.target.handle = handle;
	t.code = code;
	t.flags = flags;
	t.data_size = data_size;
	t.offsets_size = offs_size;
	t.data.ptr.buffer = (uintptr_t)data;
	t.data.ptr.offsets = (uintptr_t)offs;
	return t;
}

void w_txn(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
	   const void *data, size_t data_size, const void *offs, size_t offs_size)
{
	struct binder_transaction_data t =
		mk_txn(handle, code, flags, data, data_size, offs, offs_size);
	w_u32(w, bc);
	w_bytes(w, &t, sizeof(t));
}

void w_txn_sg(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
	      const void *data, size_t data_size, const void *offs, size_t offs_size,
	      uint64_t buffers_size)
{
	struct binder_transaction_data_sg t;
	memset(&t, 0, sizeof(t));
	t.transaction_data = mk_txn(handle, code, flags, data, data_size, offs, offs_size);
	t.buffers_size = buffers_size;
	w_u32(w, bc);
	w_bytes(w, &t, sizeof(t));
}

void w_free(struct wbuf *w, uint64_t buffer)
{
	w_u32(w, BC_FREE_BUFFER);
	w_u64(w, buffer);
}

void w_ref(struct wbuf *w, uint32_t bc, uint32_t handle)
{
	w_u32(w, bc);
	w_u32(w, handle);
}

void w_ptr_cookie(struct wbuf *w, uint32_t bc, uint64_t ptr, uint64_t cookie)
{
	w_u32(w, bc);
	w_u64(w, ptr);
	w_u64(w, cookie);
}

void w_death(struct wbuf *w, uint32_t bc, uint32_t handle, uint64_t cookie)
{
	struct binder_handle_cookie hc = { .handle = handle, .cookie = cookie };
	w_u32(w, bc);
	w_bytes(w, &hc, sizeof(hc));
}

void decode(struct rw *r)
{
	size_t off = 0;
	r->n = 0;
	r->truncated = false;
	size_t end = r->rc < RBUF_MAX ? r->rc : RBUF_MAX;
	while (off + 4 <= end && r->n < sizeof(r->v) / sizeof(r->v[0])) {
		struct br *it = &r->v[r->n++];
		memset(it, 0, sizeof(*it));
		memcpy(&it->cmd, r->rbuf + off, 4);
		it->off = (uint32_t)off;
		size_t sz = _IOC_SIZE(it->cmd);
		off += 4;
		if (off + sz > end) {
			r->truncated = true;
			break;
		}
		memcpy(&it->sec, r->rbuf + off, sz < sizeof(it->sec) ? sz : sizeof(it->sec));
		off += sz;
	}
	if (off != end)
		r->truncated = true;
}

static int do_bwr(struct bdev *b, const struct wbuf *w, size_t rsize, struct rw *r)
{
	struct binder_write_read x;
	memset(&x, 0, sizeof(x));
	memset(r, 0, offsetof(struct rw, rbuf));
	if (rsize > RBUF_MAX)
		fail("read size too large");
	if (w) {
		x.write_size = w->len;
		x.write_buffer = (uintptr_t)w->b;
	}
	x.read_size = rsize;
	x.read_buffer = (uintptr_t)r->rbuf;
	r->ret = conf_ioctl(b->fd, BINDER_WRITE_READ, &x);
	r->err = r->ret < 0 ? errno : 0;
	r->wc = x.write_consumed;
	r->rc = x.read_consumed;
	decode(r);
	return r->ret;
}

int bwr(struct bdev *b, const struct wbuf *w, size_t rsize, struct rw *r)
{
	return do_bwr(b, w, rsize, r);
}

int bwr_nb(struct bdev *b, const struct wbuf *w, size_t rsize, struct rw *r)
{
	int fl = fcntl(b->fd, F_GETFL);
	if (fl < 0 || fcntl(b->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		fail("fcntl: %s", errname(errno));
	int ret = do_bwr(b, w, rsize, r);
	int saved = errno;
	if (fcntl(b->fd, F_SETFL, fl) < 0)
		fail("fcntl: %s", errname(errno));
	errno = saved;
	return ret;
}

const struct br *find(const struct rw *r, uint32_t cmd)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].cmd == cmd)
			return &r->v[i];
	return NULL;
}

const struct binder_transaction_data *find_txn(const struct rw *r)
{
	for (size_t i = 0; i < r->n; i++) {
		uint32_t c = r->v[i].cmd;
		if (c == BR_TRANSACTION || c == BR_REPLY || c == BR_TRANSACTION_SEC_CTX)
			return &r->v[i].tr;
	}
	return NULL;
}

static uint32_t fnv32(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static bool in_map(const struct bdev *b, uint64_t addr, uint64_t len)
{
	return b && b->map && addr >= (uintptr_t)b->map && len <= b->size &&
	       addr - (uintptr_t)b->map <= b->size - len;
}

static void show_object(const struct bdev *b, const char *indent, const uint8_t *data,
			size_t data_size, uint64_t buf_addr, uint64_t off)
{
	if (off > data_size || data_size - off < sizeof(struct binder_object_header)) {
		say("%sobj@%llu out of data", indent, (unsigned long long)off);
		return;
	}
	uint32_t type;
	memcpy(&type, data + off, 4);
	size_t need = 0;
	switch (type) {
	case BINDER_TYPE_BINDER:
	case BINDER_TYPE_WEAK_BINDER:
	case BINDER_TYPE_HANDLE:
	case BINDER_TYPE_WEAK_HANDLE:
		need = sizeof(struct flat_binder_object);
		break;
	case BINDER_TYPE_FD:
		need = sizeof(struct binder_fd_object);
		break;
	case BINDER_TYPE_FDA:
		need = sizeof(struct binder_fd_array_object);
		break;
	case BINDER_TYPE_PTR:
		need = sizeof(struct binder_buffer_object);
		break;
	default:
		say("%sobj@%llu %s", indent, (unsigned long long)off, typename_(type));
		return;
	}
	if (data_size - off < need) {
		say("%sobj@%llu %s truncated", indent, (unsigned long long)off, typename_(type));
		return;
	}
	union {
		struct flat_binder_object f;
		struct binder_fd_object fd;
		struct binder_fd_array_object fda;
		struct binder_buffer_object bb;
	} o;
	memcpy(&o, data + off, need);
	switch (type) {
	case BINDER_TYPE_BINDER:
	case BINDER_TYPE_WEAK_BINDER:
		say("%sobj@%llu %s flags=%#x ptr=%#llx cookie=%#llx", indent,
		    (unsigned long long)off, typename_(type), o.f.flags,
		    (unsigned long long)o.f.binder, (unsigned long long)o.f.cookie);
		break;
	case BINDER_TYPE_HANDLE:
	case BINDER_TYPE_WEAK_HANDLE:
		say("%sobj@%llu %s flags=%#x handle=%u hi32=%#x cookie=%#llx", indent,
		    (unsigned long long)off, typename_(type), o.f.flags, o.f.handle,
		    (unsigned)(o.f.binder >> 32), (unsigned long long)o.f.cookie);
		break;
	case BINDER_TYPE_FD: {
		int fd = (int)o.fd.fd;
		int fdfl = fcntl(fd, F_GETFD);
		say("%sobj@%llu FD pad_flags=%#x fd=%s cloexec=%s hi32=%#x cookie=%#llx", indent,
		    (unsigned long long)off, o.fd.pad_flags, fdfl < 0 ? "invalid" : "valid",
		    fdfl < 0		  ? "-"
		    : (fdfl & FD_CLOEXEC) ? "yes"
					  : "no",
		    (unsigned)(o.fd.pad_binder >> 32), (unsigned long long)o.fd.cookie);
		break;
	}
	case BINDER_TYPE_FDA:
		say("%sobj@%llu FDA pad=%#x num_fds=%llu parent=%llu parent_offset=%llu", indent,
		    (unsigned long long)off, o.fda.pad, (unsigned long long)o.fda.num_fds,
		    (unsigned long long)o.fda.parent, (unsigned long long)o.fda.parent_offset);
		break;
	case BINDER_TYPE_PTR: {
		char pos[48];
		if (o.bb.buffer >= buf_addr && o.bb.buffer < buf_addr + (1u << 30) &&
		    in_map(b, o.bb.buffer, 0))
			snprintf(pos, sizeof(pos), "buf+%llu",
				 (unsigned long long)(o.bb.buffer - buf_addr));
		else
			snprintf(pos, sizeof(pos), "%s", map_pos(b, o.bb.buffer));
		say("%sobj@%llu PTR flags=%#x buffer=%s length=%llu parent=%llu parent_offset=%llu",
		    indent, (unsigned long long)off, o.bb.flags, pos,
		    (unsigned long long)o.bb.length, (unsigned long long)o.bb.parent,
		    (unsigned long long)o.bb.parent_offset);
		break;
	}
	}
}

void show_txn(const struct bdev *b, const char *indent, uint32_t cmd,
	      const struct binder_transaction_data *t)
{
	char bytes[200] = "";
	uint64_t buf = t->data.ptr.buffer, offs = t->data.ptr.offsets;
	bool data_ok = in_map(b, buf, t->data_size);
	if (data_ok && t->data_size <= 32 && t->offsets_size == 0) {
		size_t n = 0;
		for (size_t i = 0; i < t->data_size; i++)
			n += (size_t)snprintf(bytes + n, sizeof(bytes) - n, "%02x",
					      ((const uint8_t *)(uintptr_t)buf)[i]);
		if (t->data_size == 0)
			snprintf(bytes, sizeof(bytes), "-");
	} else if (data_ok && t->offsets_size == 0) {
		snprintf(bytes, sizeof(bytes), "fnv:%08x",
			 fnv32((const uint8_t *)(uintptr_t)buf, t->data_size));
	} else if (!data_ok) {
		snprintf(bytes, sizeof(bytes), "unreadable");
	} else {
		snprintf(bytes, sizeof(bytes), "(objects)");
	}
	char euid[24];
	if (t->sender_euid == geteuid())
		snprintf(euid, sizeof(euid), "same");
	else
		snprintf(euid, sizeof(euid), "%u", t->sender_euid);
	char offpos[48];
	if (offs >= buf && offs - buf < (1u << 30))
		snprintf(offpos, sizeof(offpos), "buf+%llu", (unsigned long long)(offs - buf));
	else
		snprintf(offpos, sizeof(offpos), "%s", map_pos(b, offs));
	say("%s%s target=%#llx cookie=%#llx code=%#x flags=%#x pid=%s euid=%s data_size=%llu "
	    "offsets_size=%llu buffer=%s offsets=%s data=%s",
	    indent, brname(cmd), (unsigned long long)t->target.ptr, (unsigned long long)t->cookie,
	    t->code, t->flags, pid_str(t->sender_pid), euid, (unsigned long long)t->data_size,
	    (unsigned long long)t->offsets_size, map_pos(b, buf), offpos, bytes);
	if (t->offsets_size && data_ok && in_map(b, offs, t->offsets_size)) {
		char sub[32];
		snprintf(sub, sizeof(sub), "%s  ", indent);
		size_t n = t->offsets_size / 8;
		for (size_t i = 0; i < n && i < 16; i++) {
			uint64_t o;
			memcpy(&o, (const uint8_t *)(uintptr_t)offs + i * 8, 8);
			show_object(b, sub, (const uint8_t *)(uintptr_t)buf, t->data_size, buf, o);
		}
	}
}

static void show_items(const struct rw *r, char *line, size_t cap)
{
	size_t n = strlen(line);
	for (size_t i = 0; i < r->n && n < cap; i++)
		n += (size_t)snprintf(line + n, cap - n, "%s%s", i ? " " : "", brname(r->v[i].cmd));
	if (r->truncated && n < cap)
		snprintf(line + n, cap - n, " (truncated)");
}

static void show_details(const struct bdev *b, const struct rw *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct br *it = &r->v[i];
		switch (it->cmd) {
		case BR_ERROR:
			say("  BR_ERROR %d", it->error);
			break;
		case BR_INCREFS:
		case BR_ACQUIRE:
		case BR_RELEASE:
		case BR_DECREFS:
			say("  %s ptr=%#llx cookie=%#llx", brname(it->cmd),
			    (unsigned long long)it->pc.ptr, (unsigned long long)it->pc.cookie);
			break;
		case BR_DEAD_BINDER:
		case BR_CLEAR_DEATH_NOTIFICATION_DONE:
			say("  %s cookie=%#llx", brname(it->cmd), (unsigned long long)it->cookie);
			break;
		case BR_TRANSACTION:
		case BR_REPLY:
			show_txn(b, "  ", it->cmd, &it->tr);
			break;
		case BR_TRANSACTION_SEC_CTX: {
			show_txn(b, "  ", it->cmd, &it->sec.transaction_data);
			uint64_t s = it->sec.secctx;
			uint64_t buf = it->sec.transaction_data.data.ptr.buffer;
			if (in_map(b, s, 1)) {
				const char *str = (const char *)(uintptr_t)s;
				size_t max = b->size - (size_t)(s - (uintptr_t)b->map);
				size_t len = strnlen(str, max < 256 ? max : 256);
				say("  secctx=buf+%llu \"%.*s\"", (unsigned long long)(s - buf),
				    (int)len, str);
			} else {
				say("  secctx=%s", map_pos(b, s));
			}
			break;
		}
		default:
			break;
		}
	}
}

/* Completes line (which holds the prefix up to "[") with the item names and
 * "]", prints it, then one line per item with details. */
static void show_items_and_details(const struct bdev *b, const struct rw *r, char *line,
				   size_t size)
{
	show_items(r, line, size - 2);
	strcat(line, "]");
	say("%s", line);
	show_details(b, r);
}

void show(const struct bdev *b, const char *what, const struct rw *r)
{
	char line[1024];
	if (r->ret < 0)
		snprintf(line, sizeof(line), "%s: %s wc=%llu rc=%llu [", what, errname(r->err),
			 (unsigned long long)r->wc, (unsigned long long)r->rc);
	else
		snprintf(line, sizeof(line), "%s: ok wc=%llu rc=%llu [", what,
			 (unsigned long long)r->wc, (unsigned long long)r->rc);
	show_items_and_details(b, r, line, sizeof(line));
}

void show_brief(const struct bdev *b, const char *what, const struct rw *r)
{
	char line[1024];
	if (r->ret < 0)
		snprintf(line, sizeof(line), "%s: %s [", what, errname(r->err));
	else
		snprintf(line, sizeof(line), "%s: [", what);
	show_items_and_details(b, r, line, sizeof(line));
}

int run_show(struct bdev *b, const char *what, const struct wbuf *w, size_t rsize, struct rw *r)
{
	bwr(b, w, rsize, r);
	show(b, what, r);
	return r->ret;
}

const struct br *read_until(struct bdev *b, const char *what, uint32_t cmd, struct rw *r)
{
	for (int i = 0; i < 20; i++) {
		if (bwr(b, NULL, 4096, r) < 0)
			fail("%s: read failed: %s", what, errname(r->err));
		show_brief(b, what, r);
		const struct br *it = find(r, cmd);
		if (it)
			return it;
	}
	fail("%s: %s never came", what, brname(cmd));
}

/* Writes w without reading; fatal ("what: ERR") if the ioctl fails. */
static void write_or_fail(struct bdev *b, const struct wbuf *w, const char *what)
{
	struct rw r;
	if (bwr(b, w, 0, &r) < 0)
		fail("%s: %s", what, errname(r.err));
}

void enter_looper(struct bdev *b)
{
	struct wbuf w;
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	write_or_fail(b, &w, "BC_ENTER_LOOPER");
}

void free_buffer(struct bdev *b, uint64_t buffer)
{
	struct wbuf w;
	w_reset(&w);
	w_free(&w, buffer);
	write_or_fail(b, &w, "BC_FREE_BUFFER");
}

bool send_empty_oneway(struct bdev *b, uint32_t handle, uint32_t code)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, handle, code, TF_ONE_WAY, NULL, 0, NULL, 0);
	bwr(b, &w, 256, &r);
	return find(&r, BR_TRANSACTION_COMPLETE) != NULL;
}

void reply_bytes(struct bdev *b, const void *data, size_t n, const char *what)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, data, n, NULL, 0);
	bwr(b, &w, 256, &r);
	if (what)
		show(b, what, &r);
}

struct binder_extended_error get_ee(struct bdev *b)
{
	struct binder_extended_error ee;
	memset(&ee, 0xa5, sizeof(ee));
	int r = xioctl(b->fd, BINDER_GET_EXTENDED_ERROR, &ee);
	if (r)
		fail("BINDER_GET_EXTENDED_ERROR: %s", res(r));
	return ee;
}

void show_ee(struct bdev *b, const char *what)
{
	struct binder_extended_error ee = get_ee(b);
	say("%s: extended_error id=%s command=%s param=%s", what, ee.id ? "nonzero" : "0",
	    brname(ee.command),
	    ee.param < 0 ? errname(-ee.param)
	    : ee.param	 ? "positive"
			 : "0");
}

bool binder_gone_within(struct bdev *b, pid_t pid, unsigned tries)
{
	for (unsigned i = 0; i < tries; i++) {
		struct binder_frozen_status_info fi;
		memset(&fi, 0, sizeof(fi));
		fi.pid = (uint32_t)pid;
		if (xioctl(b->fd, BINDER_GET_FROZEN_INFO, &fi) == -EINVAL)
			return true;
		msleep(5);
	}
	return false;
}

void wait_binder_gone(struct bdev *b, pid_t pid)
{
	if (!binder_gone_within(b, pid, 1000))
		fail("binder process %s never went away", pid_str(pid));
	msleep(50);
}

static void ctxmgr_and_exit(void *arg)
{
	(void)arg;
	struct bdev m;
	bd_open(&m, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(&m);
}

void clear_stale_ctxmgr(struct bdev *b)
{
	pid_t x = spawn("X", ctxmgr_and_exit, NULL);
	reap(x);
	wait_binder_gone(b, x);
}

void serve_until_code(struct bdev *m, uint32_t stop_code, const void *reply, size_t n)
{
	for (;;) {
		struct rw r;
		const struct br *it = read_until(m, "read", BR_TRANSACTION, &r);
		uint32_t code = it->tr.code;
		bool sync = !(it->tr.flags & TF_ONE_WAY);
		free_buffer(m, it->tr.data.ptr.buffer);
		if (code == stop_code)
			return;
		if (sync)
			reply_bytes(m, reply, n, NULL);
	}
}

void wait_thread_sleeping(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			char buf[256];
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = 0;
			char *rp = strrchr(buf, ')');
			if (rp && rp[1] == ' ' && rp[2] == 'S') {
				msleep(20);
				return;
			}
		}
		msleep(5);
	}
	fail("thread never blocked");
}

struct flat_binder_object fbo_binder(uint64_t ptr, uint64_t cookie, uint32_t flags)
{
	struct flat_binder_object o;
	memset(&o, 0, sizeof(o));
	o.hdr.type = BINDER_TYPE_BINDER;
	o.flags = flags;
	o.binder = ptr;
	o.cookie = cookie;
	return o;
}

struct flat_binder_object fbo_handle(uint32_t handle, uint32_t flags)
{
	struct flat_binder_object o;
	memset(&o, 0, sizeof(o));
	o.hdr.type = BINDER_TYPE_HANDLE;
	o.flags = flags;
	o.handle = handle;
	return o;
}

int ack_node_refs(struct bdev *b, const struct rw *r)
{
	struct wbuf w;
	w_reset(&w);
	int n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct br *it = &r->v[i];
		if (it->cmd == BR_INCREFS || it->cmd == BR_ACQUIRE) {
			w_ptr_cookie(&w, it->cmd == BR_INCREFS ? BC_INCREFS_DONE : BC_ACQUIRE_DONE,
				     it->pc.ptr, it->pc.cookie);
			n++;
		}
	}
	if (n)
		write_or_fail(b, &w, "acking node refs");
	return n;
}

void objs_reset(struct objs *o)
{
	memset(o, 0, sizeof(*o));
}

void objs_bytes(struct objs *o, const void *p, size_t n)
{
	if (o->len + n > sizeof(o->data))
		fail("objs overflow");
	memcpy(o->data + o->len, p, n);
	o->len += n;
}

void objs_add(struct objs *o, const void *obj, size_t size)
{
	if (o->n == sizeof(o->offs) / sizeof(o->offs[0]))
		fail("too many objects");
	o->offs[o->n++] = o->len;
	objs_bytes(o, obj, size);
}

void objs_binder(struct objs *o, uint32_t type, uint64_t ptr, uint64_t cookie, uint32_t flags)
{
	struct flat_binder_object f = fbo_binder(ptr, cookie, flags);
	f.hdr.type = type;
	objs_add(o, &f, sizeof(f));
}

void objs_handle(struct objs *o, uint32_t type, uint32_t handle, uint32_t flags)
{
	struct flat_binder_object f = fbo_handle(handle, flags);
	f.hdr.type = type;
	objs_add(o, &f, sizeof(f));
}

void w_txn_objs(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
		const struct objs *o)
{
	w_txn(w, bc, handle, code, flags, o->data, o->len, o->offs, o->n * 8);
}

const struct flat_binder_object *txn_obj(const struct binder_transaction_data *t, size_t n)
{
	if (n >= t->offsets_size / 8)
		return NULL;
	uint64_t off;
	memcpy(&off, (const uint8_t *)(uintptr_t)t->data.ptr.offsets + n * 8, 8);
	return (const struct flat_binder_object *)(uintptr_t)(t->data.ptr.buffer + off);
}
