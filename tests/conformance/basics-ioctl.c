/* SPDX-License-Identifier: MIT */
/*
 * The ioctls outside BINDER_WRITE_READ: results, errno for bad arguments,
 * unknown commands, and the state a fresh process reports.
 */
#include "conf.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

struct named_ioctl {
	const char *name;
	unsigned long req;
};

static const struct named_ioctl all_ioctls[] = {
	{ "BINDER_WRITE_READ", BINDER_WRITE_READ },
	{ "BINDER_SET_IDLE_TIMEOUT", BINDER_SET_IDLE_TIMEOUT },
	{ "BINDER_SET_MAX_THREADS", BINDER_SET_MAX_THREADS },
	{ "BINDER_SET_IDLE_PRIORITY", BINDER_SET_IDLE_PRIORITY },
	{ "BINDER_VERSION", BINDER_VERSION },
	{ "BINDER_GET_NODE_DEBUG_INFO", BINDER_GET_NODE_DEBUG_INFO },
	{ "BINDER_GET_NODE_INFO_FOR_REF", BINDER_GET_NODE_INFO_FOR_REF },
	{ "BINDER_SET_CONTEXT_MGR_EXT", BINDER_SET_CONTEXT_MGR_EXT },
	{ "BINDER_FREEZE", BINDER_FREEZE },
	{ "BINDER_GET_FROZEN_INFO", BINDER_GET_FROZEN_INFO },
	{ "BINDER_ENABLE_ONEWAY_SPAM_DETECTION", BINDER_ENABLE_ONEWAY_SPAM_DETECTION },
	{ "BINDER_GET_EXTENDED_ERROR", BINDER_GET_EXTENDED_ERROR },
};

static struct chan ch;

static void ctxmgr_with_null_arg(void *arg)
{
	(void)arg;
	struct bdev b;
	bd_open(&b, CONF_DEV, 0);
	/* The legacy ioctl does not read its argument. Retry while the context
	 * manager of a previous program is being released. */
	int r = -EBUSY;
	for (int i = 0; i < 300 && r == -EBUSY; i++) {
		r = xioctl(b.fd, BINDER_SET_CONTEXT_MGR, NULL);
		if (r == -EBUSY)
			msleep(10);
	}
	say("BINDER_SET_CONTEXT_MGR(NULL) -> %s", res(r));
	put(&ch, 1, 1);
	get(&ch, 1);
}

int main(void)
{
	conf_start("P", 20);
	struct bdev b;
	bd_open(&b, CONF_DEV, 0);

	struct binder_version v = { .protocol_version = -1 };
	int r = xioctl(b.fd, BINDER_VERSION, &v);
	say("BINDER_VERSION -> %s protocol_version=%d", res(r), v.protocol_version);

	say("-- NULL argument for each ioctl (before mmap)");
	for (size_t i = 0; i < sizeof(all_ioctls) / sizeof(all_ioctls[0]); i++) {
		r = xioctl(b.fd, all_ioctls[i].req, NULL);
		say("%s(NULL) -> %s", all_ioctls[i].name, res(r));
	}
	r = xioctl(b.fd, BINDER_THREAD_EXIT, NULL);
	say("BINDER_THREAD_EXIT(NULL) -> %s", res(r));

	say("-- unknown and foreign ioctl numbers");
	r = xioctl(b.fd, _IO('b', 99), NULL);
	say("_IO('b', 99) -> %s", res(r));
	r = xioctl(b.fd, _IOWR('b', 1, uint32_t[8]), NULL);
	say("_IOWR('b', 1, 32 bytes) [BINDER_WRITE_READ of the 32-bit ABI] -> %s", res(r));
	r = xioctl(b.fd, _IOWR('b', 9, uint64_t), &v);
	say("_IOWR('b', 9, 8 bytes) [BINDER_VERSION, wrong size] -> %s", res(r));
	struct termios tio;
	r = xioctl(b.fd, TCGETS, &tio);
	say("TCGETS -> %s", res(r));
	int one = 1;
	r = xioctl(b.fd, FIONBIO, &one);
	say("FIONBIO(1) -> %s", res(r));
	int zero = 0;
	r = xioctl(b.fd, FIONBIO, &zero);
	say("FIONBIO(0) -> %s", res(r));
	r = xioctl(b.fd, FIOCLEX, NULL);
	say("FIOCLEX -> %s", res(r));
	int nread = -1;
	r = xioctl(b.fd, FIONREAD, &nread);
	say("FIONREAD -> %s", res(r));

	say("-- a fresh process");
	struct binder_extended_error ee;
	memset(&ee, 0xa5, sizeof(ee));
	r = xioctl(b.fd, BINDER_GET_EXTENDED_ERROR, &ee);
	say("BINDER_GET_EXTENDED_ERROR -> %s id=%u command=%s param=%d", res(r), ee.id,
	    brname(ee.command), ee.param);
	struct binder_node_debug_info di;
	memset(&di, 0xa5, sizeof(di));
	di.ptr = 0;
	r = xioctl(b.fd, BINDER_GET_NODE_DEBUG_INFO, &di);
	say("BINDER_GET_NODE_DEBUG_INFO(ptr=0) -> %s ptr=%#llx cookie=%#llx strong=%u weak=%u",
	    res(r), (unsigned long long)di.ptr, (unsigned long long)di.cookie, di.has_strong_ref,
	    di.has_weak_ref);
	struct binder_node_info_for_ref nr;
	memset(&nr, 0, sizeof(nr));
	r = xioctl(b.fd, BINDER_GET_NODE_INFO_FOR_REF, &nr);
	say("BINDER_GET_NODE_INFO_FOR_REF(handle=0), not context manager -> %s", res(r));
	nr.reserved1 = 1;
	r = xioctl(b.fd, BINDER_GET_NODE_INFO_FOR_REF, &nr);
	say("BINDER_GET_NODE_INFO_FOR_REF(reserved1=1) -> %s", res(r));
	nr.reserved1 = 0;
	nr.strong_count = 1;
	r = xioctl(b.fd, BINDER_GET_NODE_INFO_FOR_REF, &nr);
	say("BINDER_GET_NODE_INFO_FOR_REF(strong_count=1) -> %s", res(r));

	uint32_t max = 4;
	r = xioctl(b.fd, BINDER_SET_MAX_THREADS, &max);
	say("BINDER_SET_MAX_THREADS(4) -> %s", res(r));
	max = 0xffffffffu;
	r = xioctl(b.fd, BINDER_SET_MAX_THREADS, &max);
	say("BINDER_SET_MAX_THREADS(0xffffffff) -> %s", res(r));
	uint32_t en = 1;
	r = xioctl(b.fd, BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &en);
	say("BINDER_ENABLE_ONEWAY_SPAM_DETECTION(1) -> %s", res(r));
	en = 7;
	r = xioctl(b.fd, BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &en);
	say("BINDER_ENABLE_ONEWAY_SPAM_DETECTION(7) -> %s", res(r));
	int64_t idle = 0;
	r = xioctl(b.fd, BINDER_SET_IDLE_TIMEOUT, &idle);
	say("BINDER_SET_IDLE_TIMEOUT(0) -> %s", res(r));
	int32_t prio = 0;
	r = xioctl(b.fd, BINDER_SET_IDLE_PRIORITY, &prio);
	say("BINDER_SET_IDLE_PRIORITY(0) -> %s", res(r));

	say("-- freeze ioctls on pids");
	struct binder_frozen_status_info fi;
	memset(&fi, 0xa5, sizeof(fi));
	fi.pid = (uint32_t)getpid();
	r = xioctl(b.fd, BINDER_GET_FROZEN_INFO, &fi);
	say("BINDER_GET_FROZEN_INFO(self) -> %s sync_recv=%u async_recv=%u", res(r), fi.sync_recv,
	    fi.async_recv);
	memset(&fi, 0, sizeof(fi));
	fi.pid = 0x7ffffff0;
	r = xioctl(b.fd, BINDER_GET_FROZEN_INFO, &fi);
	say("BINDER_GET_FROZEN_INFO(no such pid) -> %s", res(r));
	struct binder_freeze_info fz = { .pid = 0x7ffffff0, .enable = 1, .timeout_ms = 0 };
	r = xioctl(b.fd, BINDER_FREEZE, &fz);
	say("BINDER_FREEZE(no such pid) -> %s", res(r));
	fz.pid = (uint32_t)getpid();
	r = xioctl(b.fd, BINDER_FREEZE, &fz);
	say("BINDER_FREEZE(self, enable) -> %s", res(r));
	memset(&fi, 0, sizeof(fi));
	fi.pid = (uint32_t)getpid();
	r = xioctl(b.fd, BINDER_GET_FROZEN_INFO, &fi);
	say("BINDER_GET_FROZEN_INFO(self, frozen) -> %s sync_recv=%u async_recv=%u", res(r),
	    fi.sync_recv, fi.async_recv);
	fz.enable = 0;
	r = xioctl(b.fd, BINDER_FREEZE, &fz);
	say("BINDER_FREEZE(self, disable) -> %s", res(r));
	fz.enable = 1;
	fz.pid = 0;
	r = xioctl(b.fd, BINDER_FREEZE, &fz);
	say("BINDER_FREEZE(pid 0) -> %s", res(r));

	say("-- the legacy BINDER_SET_CONTEXT_MGR ignores its argument");
	chan_init(&ch);
	pid_t c = spawn("C", ctxmgr_with_null_arg, NULL);
	get(&ch, 0);
	int32_t z = 0;
	r = xioctl(b.fd, BINDER_SET_CONTEXT_MGR, &z);
	say("BINDER_SET_CONTEXT_MGR while C is the context manager -> %s", res(r));
	struct flat_binder_object o = fbo_binder(0x1000, 0x2000, 0);
	r = xioctl(b.fd, BINDER_SET_CONTEXT_MGR_EXT, &o);
	say("BINDER_SET_CONTEXT_MGR_EXT while C is the context manager -> %s", res(r));
	put(&ch, 0, 1);
	reap(c);
	say("done");
	return 0;
}
