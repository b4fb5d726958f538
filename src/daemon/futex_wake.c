/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/futex_wake.h"

static int result(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

int futex_wake_one(uint32_t *word)
{
	return result(syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0));
}

int futex_wake_two(uint32_t *a, uint32_t *b, uint32_t b_value)
{
	/* FUTEX_WAKE_OP compares @b's old value with a 12-bit argument: the
	 * sign test is the one comparison that holds for every value the
	 * caller may have stored. */
	int cmp = (int32_t)b_value >= 0 ? FUTEX_OP_CMP_GE : FUTEX_OP_CMP_LT;

	/* The fourth argument is the number of @b's waiters to wake. */
	return result(syscall(SYS_futex, a, FUTEX_WAKE_OP, 1, (void *)1, b,
			      FUTEX_OP(FUTEX_OP_ADD, 0, cmp, 0)));
}
