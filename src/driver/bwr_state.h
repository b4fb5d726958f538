/* SPDX-License-Identifier: MIT */
/*
 * What a BINDER_WRITE_READ in progress owns (entities.h: struct bwr_state),
 * apart from running it (bwr.c): copies of the request's transient memory
 * while it is suspended, the descriptors that came with it, the numbers the
 * client must close, and discarding all of it.
 */
#pragma once

#include "driver/entities.h"

/* Copies the request's transient data (commands, segments) into thread-owned memory. */
int bwr_make_owned(struct thread *thread);

/* Frees what the request owns and closes its descriptors. */
void bwr_discard(struct thread *thread);

/* Queues fd numbers the client must close before it returns (freed fd arrays). */
void bwr_close_after_free(struct thread *thread, const int32_t *fds, size_t n);

/* Closes the descriptors the request brought that no transaction took. */
void bwr_close_request_fds(struct bwr_state *bwr);

/* Frees the copies made by bwr_make_owned(). */
void bwr_free_owned(struct bwr_state *bwr);
