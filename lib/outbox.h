/* SPDX-License-Identifier: MIT */
/*
 * Internal: the context's outbox, a memory area shared with the daemon where
 * large parcels are built, so that the daemon copies them with a memcpy
 * (UBW_OUTBOX). Parcels hold a reference to the outbox their data is in.
 */
#pragma once

#include <stddef.h>

#include "transport/transport.h"

struct ubinder_thread;

struct outbox;
/* Each context's outbox (address space; pages are used as parcels need them). */
#define UB_OUTBOX_SIZE (8u << 20)
/* Parcels this large are built in the outbox (smaller ones travel inline):
 * the transport's rule, which bench-ipc follows too. */
#define UB_OUTBOX_MIN  UBT_OUTBOX_MIN
/* Maps an outbox through @ts; NULL if the daemon has none to give. */
struct outbox *outbox_new(struct ubinder_thread *ts, size_t size);
void outbox_unref(struct outbox *o);
/* Makes @o the one new large parcels use; retire() stops that. */
void outbox_publish(struct outbox *o);
void outbox_retire(struct outbox *o);
/* At least @size bytes of the current outbox (*got of them) and a reference to it. */
void *outbox_alloc(size_t size, size_t *got, struct outbox **owner);
/* Gives back what outbox_alloc() returned (@size = its *got) and the reference. */
void outbox_free(struct outbox *o, void *p, size_t size);
/* Its shared mapping (fork.c). */
void *outbox_base(const struct outbox *o);
size_t outbox_size(const struct outbox *o);
/* fork(): holds the current outbox's lock and @o's (NULL: none) across it;
 * in the child, no outbox is current any more. */
void outbox_fork_prepare(struct outbox *o);
void outbox_fork_parent(struct outbox *o);
void outbox_fork_child(struct outbox *o);
