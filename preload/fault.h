/* SPDX-License-Identifier: MIT */
/* SIGSEGV and SIGBUS: faults of the program's memory in our copies become EFAULT. */
#pragma once

#include <signal.h>
#include <stdbool.h>

/*
 * Catches SIGSEGV and SIGBUS from now on (once per process), so that the
 * transport's copies of the program's memory fail with EFAULT where the
 * kernel's would; before the first Binder file exists.
 */
void fault_init(void);
/* Whether @sig is one of those. */
bool fault_signal(int sig);
/* sigaction() as the program sees it: for those two signals, once caught,
 * the program's disposition, delivered by our handler. */
int fault_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
