/* SPDX-License-Identifier: MIT */
#include "callback_list.h"

#include <stdlib.h>

int callback_add(struct callback_registry *r, struct callback_node **list, ubinder_binder *b)
{
	struct callback_node *n;

	if (r->count >= r->max || !(n = calloc(1, sizeof(*n))))
		return UBINDER_ERR_NO_MEMORY;
	if (!(r->local_unlinked && ubinder_binder_is_local(b)) &&
	    ubinder_binder_link_to_death(b, r->died, NULL) != 0) {
		free(n);
		return UBINDER_ERR_DEAD_OBJECT;
	}
	n->binder = ubinder_binder_ref(b);
	n->next = *list;
	*list = n;
	r->count++;
	return 0;
}

void callback_remove_at(struct callback_registry *r, struct callback_node **pp)
{
	struct callback_node *n = *pp;

	*pp = n->next;
	if (!ubinder_binder_is_local(n->binder))
		(void)ubinder_binder_unlink_to_death(n->binder, r->died, NULL);
	ubinder_binder_unref(n->binder);
	free(n);
	r->count--;
}

size_t callback_drop(struct callback_registry *r, struct callback_node **list, ubinder_binder *b)
{
	size_t dropped = 0;

	for (struct callback_node **pp = list; *pp;) {
		if (b && (*pp)->binder != b) {
			pp = &(*pp)->next;
			continue;
		}
		callback_remove_at(r, pp);
		dropped++;
	}
	return dropped;
}
