/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "driver/bwr_state.h"

void bwr_close_after_free(struct thread *thread, const int32_t *fds, size_t n)
{
	int32_t *grown =
		realloc(thread->bwr.close_after_free, (thread->bwr.nclose + n) * sizeof(*grown));

	if (!grown) {
		log_warning("out of memory: %zu fd-array descriptors left open", n);
		return;
	}
	memcpy(grown + thread->bwr.nclose, fds, n * sizeof(*fds));
	thread->bwr.close_after_free = grown;
	thread->bwr.nclose += n;
}

void bwr_close_request_fds(struct bwr_state *bwr)
{
	for (size_t i = 0; i < bwr->nfds; i++) {
		if (bwr->fds[i] >= 0)
			close(bwr->fds[i]);
	}
	free(bwr->fds);
	free(bwr->sender_fds);
	bwr->fds = NULL;
	bwr->sender_fds = NULL;
	bwr->nfds = 0;
}

void bwr_free_owned(struct bwr_state *bwr)
{
	if (!bwr->owned)
		return;
	free(bwr->owned);
	free(bwr->owned_segments);
	bwr->owned = NULL;
	bwr->owned_segments = NULL;
	bwr->segments = NULL;
	bwr->nsegments = 0;
	bwr->write = NULL;
}

void bwr_discard(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;

	bwr_close_request_fds(bwr);
	bwr_free_owned(bwr);
	/* A buffer whose descriptors never got their numbers is the client's all the same. */
	if (bwr->phase == BWR_FIXUP && bwr->nslots)
		buffer_space_deliver(&bwr->slots[0].buffer->proc->space,
				     bwr->slots[0].buffer->range);
	free(bwr->slots);
	free(bwr->close_after_free);
	memset(bwr, 0, sizeof(*bwr));
}

int bwr_make_owned(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;
	size_t bytes = bwr->write_len + bwr->write_overrun;
	struct mem_segment *segs = NULL;
	uint8_t *owned, *p;

	if (bwr->owned)
		return 0;
	for (size_t i = 0; i < bwr->nsegments; i++)
		bytes += bwr->segments[i].length;
	owned = malloc(bytes ? bytes : 1);
	if (bwr->nsegments)
		segs = malloc(bwr->nsegments * sizeof(*segs));
	if (!owned || (bwr->nsegments && !segs)) {
		free(owned);
		free(segs);
		return -ENOMEM;
	}
	memcpy(owned, bwr->write, bwr->write_len + bwr->write_overrun);
	bwr->write = owned;
	p = owned + bwr->write_len + bwr->write_overrun;
	for (size_t i = 0; i < bwr->nsegments; i++) {
		segs[i] = bwr->segments[i];
		memcpy(p, segs[i].bytes, segs[i].length);
		segs[i].bytes = p;
		p += segs[i].length;
	}
	bwr->segments = bwr->owned_segments = segs;
	bwr->owned = owned;
	return 0;
}
