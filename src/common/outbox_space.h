/* SPDX-License-Identifier: MIT */
/*
 * The pages of an outbox shared with page states (UBW_OUTBOX_PAGE_STATES,
 * outbox_pages.h), handed out page-granular, first fit over a bitmap:
 * libubinder builds its large parcels in them, the /dev/binder emulation
 * stages large transactions there for the length of one ioctl.
 *
 * The bitmap is ours; the state bytes are shared with the daemon, which may
 * give back FREE pages at any time (FREE -> RECLAIMING -> HOLE), so a page
 * is taken with compare-and-swap from HOLE or FREE to USED and one being
 * given back is passed over. Freed pages stay resident (FREE) for the next
 * user. Thread-safe: one lock per space, never held across a system call.
 */
#pragma once

#include <stddef.h>

struct outbox_space;

/*
 * The space of an outbox of @size bytes mapped at @base (read-write, its
 * first pages the states), in pages of @page bytes; the state pages are
 * marked USED for good. NULL when the outbox has no page beyond its states,
 * or without memory.
 */
struct outbox_space *outbox_space_new(void *base, size_t size, size_t page);
/* Frees the bookkeeping (not the mapping, which is the caller's). */
void outbox_space_delete(struct outbox_space *sp);
/* At least @size bytes, whole pages (*got bytes of them), or NULL. */
void *outbox_space_take(struct outbox_space *sp, size_t size, size_t *got);
/* Gives back what outbox_space_take() returned (@got = its *got). */
void outbox_space_give(struct outbox_space *sp, void *p, size_t got);
/*
 * The mapping is about to go (its user unmaps it): from now on no page is
 * taken and giving back touches only the bitmap, never the mapping. Pages
 * already taken stay the taker's to give back.
 */
void outbox_space_retire(struct outbox_space *sp);
/* The mapping. */
void *outbox_space_base(const struct outbox_space *sp);
size_t outbox_space_size(const struct outbox_space *sp);
/* Holds the space's lock across a fork (prepare), releases it after it
 * (parent and child). */
void outbox_space_lock(struct outbox_space *sp);
void outbox_space_unlock(struct outbox_space *sp);
