/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/guarded_copy.h"

/* A copy in progress: where to resume, and the addresses it touches. */
struct guard {
	sigjmp_buf resume;
	uintptr_t dst, src;
	size_t n;
};

/* The innermost guarded copy of this thread, or NULL. Initial-exec: the
 * preload library is loaded with the program, and each copy then reads it
 * without a __tls_get_addr call (two per copy, a dozen copies per call). */
static __thread struct guard *volatile current __attribute__((tls_model("initial-exec")));

static bool inside(uintptr_t addr, uintptr_t base, size_t n)
{
	return addr - base < n;
}

void guarded_copy_recover(int sig, const siginfo_t *info)
{
	struct guard *g = current;
	uintptr_t addr = (uintptr_t)info->si_addr;

	if (!g || (sig != SIGBUS && sig != SIGSEGV) || info->si_code <= 0)
		return; /* not a fault (SI_USER, SI_QUEUE, SI_TKILL...) */
	if (inside(addr, g->dst, g->n) || inside(addr, g->src, g->n))
		siglongjmp(g->resume, 1);
}

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	(void)context;
	guarded_copy_recover(sig, info);
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
	struct guard g; /* not zeroed: sigsetjmp fills its 200-byte buffer */
	struct guard *outer = current;

	g.dst = (uintptr_t)dst;
	g.src = (uintptr_t)src;
	g.n = n;

	/* No signal mask to save: the handlers run with SA_NODEFER, so the mask
	 * is the same after a recovery as before the copy, and sigsetjmp costs
	 * no system call. */
	if (sigsetjmp(g.resume, 0)) {
		current = outer;
		return -EFAULT;
	}
	current = &g;
	/* The copy stays between the two stores: the handler looks at them. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, src, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	current = outer;
	return 0;
}
