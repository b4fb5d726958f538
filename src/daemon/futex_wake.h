/* SPDX-License-Identifier: MIT */
/*
 * Waking the threads that wait on words of a shared mapping (the rings'
 * rep_tail): one at a time, or two in one system call.
 */
#pragma once

#include <stdint.h>

/* Wakes one waiter of @word (a shared, not private, futex): how many it
 * woke (0 or 1), or -errno. */
int futex_wake_one(uint32_t *word);

/*
 * Wakes one waiter of @a and one of @b in one system call (FUTEX_WAKE_OP),
 * so that the first woken cannot preempt the caller before the second is
 * woken. @b_value is the value the caller last stored in @b: @b's waiter is
 * woken when @b still holds a value on the same side of 0 (as int32_t), so
 * someone else who scribbles on @b can make only @b's wake-up be lost. @b is
 * left as it is (the kernel adds 0 to it, atomically). Returns how many it
 * woke (0 to 2), or -errno.
 */
int futex_wake_two(uint32_t *a, uint32_t *b, uint32_t b_value);
