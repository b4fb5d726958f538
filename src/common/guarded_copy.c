/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "common/guarded_copy.h"

/* The recovery point of the copy in progress on this thread, or NULL. */
static __thread sigjmp_buf *volatile guard;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	if (guard)
		siglongjmp(*guard, 1);
	/* Not ours: die of it, as without a handler. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int guarded_copy_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

int guarded_memcpy(void *dst, const void *src, size_t n)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		guard = NULL;
		return -EFAULT;
	}
	guard = &jb;
	memcpy(dst, src, n);
	guard = NULL;
	return 0;
}
