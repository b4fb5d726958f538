/* SPDX-License-Identifier: MIT */
/*
 * Work items: everything a Binder thread can read (a transaction, a
 * completion, an error, a node's reference-count change, a death
 * notification) is a struct work queued on a work list, in order.
 *
 * Lists: each thread has its todo list, each process one for work any of its
 * looper threads may take, each node one for oneway transactions that wait
 * for the previous one to be freed, and each process a list of delivered
 * death notifications.
 *
 * Invariant: a work item is on at most one list, and work->list says which
 * (NULL when on none). Items are embedded in their owners; lists never own
 * them.
 */
#pragma once

#include <stdbool.h>
#include <bsd/sys/queue.h>

enum work_type {
	WORK_TRANSACTION = 1,
	WORK_TRANSACTION_COMPLETE,
	WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT,
	WORK_RETURN_ERROR,
	WORK_NODE,
	WORK_DEAD_BINDER,
	WORK_DEAD_BINDER_AND_CLEAR,
	WORK_CLEAR_DEATH_NOTIFICATION,
};

struct work_list;

struct work {
	TAILQ_ENTRY(work) entry;
	struct work_list *list; /* the list holding this item, or NULL */
	enum work_type type;
};

TAILQ_HEAD(work_queue, work);

struct work_list {
	struct work_queue items;
};

static inline void work_list_init(struct work_list *list)
{
	TAILQ_INIT(&list->items);
}

static inline bool work_list_empty(const struct work_list *list)
{
	return TAILQ_EMPTY(&list->items);
}

static inline bool work_is_queued(const struct work *w)
{
	return w->list != NULL;
}

static inline struct work *work_list_first(const struct work_list *list)
{
	return TAILQ_FIRST(&list->items);
}

/* Appends @w, which must not be queued. */
static inline void work_enqueue(struct work_list *list, struct work *w)
{
	TAILQ_INSERT_TAIL(&list->items, w, entry);
	w->list = list;
}

/* Removes @w from its list if it is on one. */
static inline void work_dequeue(struct work *w)
{
	if (!w->list)
		return;
	TAILQ_REMOVE(&w->list->items, w, entry);
	w->list = NULL;
}

/* Removes and returns the first item, or NULL. */
static inline struct work *work_list_pop(struct work_list *list)
{
	struct work *w = TAILQ_FIRST(&list->items);

	if (w)
		work_dequeue(w);
	return w;
}
