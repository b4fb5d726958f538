/* SPDX-License-Identifier: MIT */
/*
 * The program's SIGSEGV and SIGBUS.
 *
 * The transport reads and writes the program's memory at the addresses the
 * program passed to an ioctl with guarded_memcpy (src/common/guarded_copy.h):
 * a bad address faults inside that copy and becomes the ioctl's EFAULT, as
 * the kernel's copy_from_user fails, and a good one costs no system call.
 * That needs our handler on both signals for as long as Binder files exist.
 * The dispositions the program sets are kept here (the interposed sigaction
 * and signal family, intercept-signal.c, show them to it) and every fault
 * that is not a guarded copy's is delivered to them as the kernel would.
 *
 * Invariants: once installed, our handler stays on both signals except when
 * a fault goes to the default action (the process then dies of it). The
 * program's dispositions are read by the handler without a lock: writers
 * take the sequence word odd (a spin lock among writers, which never fault
 * or block while they hold it), readers retry until it is even and the same
 * before and after their read.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "common/guarded_copy.h"
#include "fault.h"
#include "preload.h"
#include "real.h"

static const int managed[] = { SIGSEGV, SIGBUS };
#define NMANAGED (sizeof(managed) / sizeof(managed[0]))

static struct sigaction program[NMANAGED];
static atomic_uint program_seq[NMANAGED];
static atomic_bool installed;
/* Orders installation against the interposed calls; never taken in the handler. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static int slot(int sig)
{
	for (size_t i = 0; i < NMANAGED; i++) {
		if (managed[i] == sig)
			return (int)i;
	}
	return -1;
}

bool fault_signal(int sig)
{
	return slot(sig) >= 0;
}

static void read_program(int i, struct sigaction *out)
{
	unsigned before, after;

	do {
		before = atomic_load_explicit(&program_seq[i], memory_order_acquire);
		memcpy(out, &program[i], sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		after = atomic_load_explicit(&program_seq[i], memory_order_relaxed);
	} while ((before & 1) || before != after);
}

/* Our memory only: nothing between the two stores can fault. */
static void write_program(int i, const struct sigaction *sa)
{
	unsigned seq = atomic_load_explicit(&program_seq[i], memory_order_relaxed);

	for (;;) {
		if (!(seq & 1) && atomic_compare_exchange_weak_explicit(
					  &program_seq[i], &seq, seq + 1, memory_order_acquire,
					  memory_order_relaxed))
			break;
		seq = atomic_load_explicit(&program_seq[i], memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_release);
	program[i] = *sa;
	atomic_store_explicit(&program_seq[i], seq + 2, memory_order_release);
}

/* What the kernel does with a fault or a sent signal for the program's
 * disposition @a. */
static void deliver(int sig, const struct sigaction *a, siginfo_t *info, void *context)
{
	bool fault = info->si_code > 0;
	sigset_t mask, old;

	if (a->sa_handler == SIG_IGN && !fault)
		return;
	if (a->sa_handler == SIG_DFL || a->sa_handler == SIG_IGN) {
		/* The default action, which the kernel takes for a fault even when
		 * it is ignored: without us, the faulting instruction faults again,
		 * a sent signal is sent again. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		real.sigaction(sig, &dfl, NULL);
		if (!fault)
			raise(sig);
		return;
	}
	mask = a->sa_mask;
	if (!(a->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	if (a->sa_flags & SA_RESETHAND) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		write_program(slot(sig), &dfl);
	}
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, info, context);
	else
		a->sa_handler(sig);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
	int saved = errno;
	struct sigaction a;

	guarded_copy_recover(sig, info);
	read_program(slot(sig), &a);
	deliver(sig, &a, info, context);
	errno = saved;
}

static void install(void)
{
	struct sigaction ours;

	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = on_fault;
	/* SA_NODEFER: a recovered copy leaves the signal mask as it found it.
	 * SA_ONSTACK: a program's alternate stack still serves its overflows. */
	ours.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	pthread_mutex_lock(&install_lock);
	for (size_t i = 0; i < NMANAGED; i++) {
		struct sigaction prev;

		if (real.sigaction(managed[i], NULL, &prev) == 0) {
			write_program((int)i, &prev);
			if (real.sigaction(managed[i], &ours, NULL) < 0)
				plog("cannot catch signal %d: bad pointers may crash", managed[i]);
		}
	}
	atomic_store(&installed, true);
	pthread_mutex_unlock(&install_lock);
}

void fault_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	real_init();
	pthread_once(&once, install);
}

int fault_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	struct sigaction next, prev;
	sigset_t all, old;
	int i = slot(sig), err = 0;

	pthread_mutex_lock(&install_lock);
	if (i < 0 || !atomic_load(&installed)) {
		int r = real.sigaction(sig, act, oldact);

		pthread_mutex_unlock(&install_lock);
		return r;
	}
	/* As the kernel's rt_sigaction: the new action is read before anything
	 * changes, the old one written after. */
	if (act && guarded_memcpy(&next, act, sizeof(next)))
		err = -EFAULT;
	if (!err) {
		read_program(i, &prev);
		if (act) {
			/* Not interrupted by a sent signal while the word is odd. */
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);
			write_program(i, &next);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
	}
	pthread_mutex_unlock(&install_lock);
	if (!err && oldact && guarded_memcpy(oldact, &prev, sizeof(prev)))
		err = -EFAULT;
	return ret_errno(err);
}
