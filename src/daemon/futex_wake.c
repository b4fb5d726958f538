/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdlib.h>
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

#ifdef HAVE_LIBURING
#include <liburing.h>

/* Not in this Debian's headers (Linux 6.7's ABI): a futex wake as an
 * io_uring request; sqe->fd holds the futex2 flags. */
#ifndef IORING_OP_FUTEX_WAKE
#define IORING_OP_FUTEX_WAKE 52
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif

struct futex_batch {
	struct io_uring ring;
};

/* A request to wake one waiter of @word, any bitset; shared (no
 * FUTEX2_PRIVATE), as the clients' FUTEX_WAIT. */
static void prep_wake(struct io_uring_sqe *sqe, uint32_t *word, uint64_t tag)
{
	io_uring_prep_rw(IORING_OP_FUTEX_WAKE, sqe, FUTEX2_SIZE_U32, word, 0, 1);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
	sqe->user_data = tag;
}

/* One wake of a word nobody waits on, its completion awaited: true when the
 * kernel takes the request as encoded here (it answers 0 woken). */
static bool wake_request_works(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	uint32_t word = 0;
	bool ok;

	if (!sqe)
		return false;
	prep_wake(sqe, &word, 0);
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe) < 0)
		return false;
	ok = cqe->res == 0;
	io_uring_cqe_seen(ring, cqe);
	return ok;
}

struct futex_batch *futex_batch_new(const char **why)
{
	struct futex_batch *b = calloc(1, sizeof(*b));
	struct io_uring_probe *probe;
	bool ok;

	if (!b) {
		*why = "pairs (out of memory)";
		return NULL;
	}
	if (io_uring_queue_init(FUTEX_BATCH_MAX, &b->ring, IORING_SETUP_SUBMIT_ALL) < 0) {
		*why = "pairs (io_uring refused or missing)";
		free(b);
		return NULL;
	}
	probe = io_uring_get_probe_ring(&b->ring);
	ok = probe && io_uring_opcode_supported(probe, IORING_OP_FUTEX_WAKE);
	if (probe)
		io_uring_free_probe(probe);
	if (!ok) {
		*why = "pairs (io_uring has no futex requests: Linux 6.7)";
		futex_batch_free(b);
		return NULL;
	}
	if (!wake_request_works(&b->ring)) {
		*why = "pairs (io_uring refused a futex wake request)";
		futex_batch_free(b);
		return NULL;
	}
	return b;
}

void futex_batch_free(struct futex_batch *b)
{
	if (!b)
		return;
	io_uring_queue_exit(&b->ring);
	free(b);
}

int futex_batch_wake(struct futex_batch *b, uint32_t *const *words, unsigned n, unsigned *failed)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int ret;

	*failed = 0;
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

		if (!sqe)
			return -EAGAIN; /* the caller drops the ring, prepared ones with it */
		prep_wake(sqe, words[i], i);
		sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
	}
	ret = io_uring_submit(&b->ring);
	/* Only failures post completions (inline, before the submission
	 * returns): each such word gets its own wake. */
	io_uring_for_each_cqe(&b->ring, head, cqe)
	{
		if (cqe->res < 0 && cqe->user_data < n) {
			futex_wake_one(words[cqe->user_data]);
			(*failed)++;
		}
		seen++;
	}
	io_uring_cq_advance(&b->ring, seen);
	/* Fewer taken than queued would leave requests to a later submission:
	 * the caller then wakes every word itself and drops the ring. */
	if (ret == (int)n)
		return (int)n;
	return ret < 0 ? ret : -EIO;
}
#else
struct futex_batch *futex_batch_new(const char **why)
{
	*why = "pairs (built without liburing)";
	return NULL;
}

void futex_batch_free(struct futex_batch *b)
{
	(void)b;
}

int futex_batch_wake(struct futex_batch *b, uint32_t *const *words, unsigned n, unsigned *failed)
{
	(void)b;
	(void)words;
	(void)n;
	*failed = 0;
	return -ENOSYS;
}
#endif
