/* SPDX-License-Identifier: MIT */
/*
 * Waking the threads that wait on words of a shared mapping (the rings'
 * rep_tail): one at a time, two in one system call, or a batch in one
 * io_uring submission.
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

/*
 * Many wake-ups in one system call: an io_uring of FUTEX_WAKE requests
 * (Linux 6.7), where the kernel and the build have it.
 */
#define FUTEX_BATCH_MAX 32
struct futex_batch;
/* NULL when io_uring or its futex requests are missing (or refused: one is
 * tried first), with *@why saying which (a static string). */
struct futex_batch *futex_batch_new(const char **why);
void futex_batch_free(struct futex_batch *b);
/*
 * Wakes one waiter of each of @words (@n at most FUTEX_BATCH_MAX), waking
 * alone each word whose request failed (*@failed of them): @n; or -errno
 * when the submission did not take them all, after which some may have
 * been woken and the caller must wake every word itself and free @b.
 */
int futex_batch_wake(struct futex_batch *b, uint32_t *const *words, unsigned n, unsigned *failed);
