/* SPDX-License-Identifier: MIT */
/*
 * The exported signal-disposition entry points: sigaction, __sigaction,
 * signal, bsd_signal, sysv_signal, __sysv_signal. For SIGSEGV and SIGBUS,
 * once the emulation catches them (fault.c), they set and show the
 * program's disposition; for every other signal, and before, they are
 * libc's. (glibc's signal family calls its internal sigaction, so each name
 * is interposed itself.)
 */
#include <signal.h>
#include <string.h>

#include "fault.h"
#include "preload.h"
#include "real.h"

typedef void (*handler_fn)(int);

handler_fn bsd_signal(int sig, handler_fn handler);
handler_fn sysv_signal(int sig, handler_fn handler);
handler_fn __sysv_signal(int sig, handler_fn handler);
int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	real_init();
	return fault_sigaction(sig, act, oldact);
}

EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	return sigaction(sig, act, oldact);
}

/* signal() with @flags, the sa_flags of glibc's BSD or System V flavour;
 * SIGSEGV and SIGBUS always through fault_sigaction, which orders them
 * against the emulation's installation. */
static handler_fn set_handler(int sig, handler_fn handler, int flags,
			      handler_fn (*libc)(int, handler_fn))
{
	struct sigaction act, old;

	real_init();
	if (!fault_signal(sig))
		return libc(sig, handler);
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	/* BSD semantics block the signal in its handler. */
	if (!(flags & SA_NODEFER))
		sigaddset(&act.sa_mask, sig);
	if (fault_sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

EXPORT handler_fn signal(int sig, handler_fn handler)
{
	return set_handler(sig, handler, SA_RESTART, real.signal);
}

EXPORT handler_fn bsd_signal(int sig, handler_fn handler)
{
	return set_handler(sig, handler, SA_RESTART, real.signal);
}

EXPORT handler_fn sysv_signal(int sig, handler_fn handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, real.sysv_signal);
}

EXPORT handler_fn __sysv_signal(int sig, handler_fn handler)
{
	return sysv_signal(sig, handler);
}
