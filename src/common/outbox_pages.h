/* SPDX-License-Identifier: MIT */
/*
 * The page states of an outbox shared with UBW_OUTBOX_PAGE_STATES
 * (wire.h): one byte a page, in the outbox's first pages, changed by the
 * client (libubinder's outbox) and the daemon (src/driver/outbox.c) with
 * atomic compare-and-swap only. The client takes HOLE or FREE to USED and
 * frees by storing FREE; the daemon takes FREE to RECLAIMING, punches the
 * page out, and stores HOLE. A new outbox is all HOLE (zeros).
 */
#pragma once

#include <stddef.h>

enum outbox_page_state {
	OUTBOX_PAGE_HOLE = 0,	    /* no memory behind it */
	OUTBOX_PAGE_FREE = 1,	    /* resident, unused: the daemon may give it back */
	OUTBOX_PAGE_USED = 2,	    /* the client's, in use */
	OUTBOX_PAGE_RECLAIMING = 3, /* the daemon is giving it back: leave it */
};

/* The pages the states of @pages pages take at the start of the outbox. */
static inline size_t outbox_state_pages(size_t pages, size_t page_size)
{
	return (pages + page_size - 1) / page_size;
}
