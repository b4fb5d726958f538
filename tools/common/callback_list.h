/* SPDX-License-Identifier: MIT */
/*
 * The callbacks a context manager holds (registration notifications, client
 * callbacks): lists of binders, each node holding a reference to its binder
 * and a link to the manager's death handler (no cookie: a binder in several
 * lists has one link per node), and one count over all lists against a limit.
 * Single-threaded, as the managers' event loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ubinder/ubinder.h"

struct callback_node {
	ubinder_binder *binder;
	struct callback_node *next;
};

/* What every list of one manager shares. */
struct callback_registry {
	ubinder_death_fn died; /* called when a callback's process dies */
	size_t count;	       /* nodes in all lists */
	size_t max;	       /* the most nodes there may be */
	bool local_unlinked;   /* a local object (no death to watch) is taken unlinked */
};

/*
 * Adds @b (a new reference) to the front of *@list. Returns 0,
 * UBINDER_ERR_NO_MEMORY (also when @r is full), or UBINDER_ERR_DEAD_OBJECT
 * when @b cannot be linked to death (it is dead, or a local object and
 * @r->local_unlinked is false).
 */
int callback_add(struct callback_registry *r, struct callback_node **list, ubinder_binder *b);

/* Removes the node *@pp (unlinks, unrefs and frees it; *@pp becomes its next). */
void callback_remove_at(struct callback_registry *r, struct callback_node **pp);

/* Removes every node of *@list holding @b (NULL: every node); returns how many. */
size_t callback_drop(struct callback_registry *r, struct callback_node **list, ubinder_binder *b);
