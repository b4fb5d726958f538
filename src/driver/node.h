/* SPDX-License-Identifier: MIT */
/* Nodes: a process's Binder objects and their reference counts (entities.h). */
#pragma once

#include "driver/entities.h"

RB_PROTOTYPE(node_tree, node, by_ptr, node_cmp_ptr)

/* The node @proc owns with this ptr, or NULL. */
struct node *node_lookup(struct proc *proc, uint64_t ptr);

/* A new node of @proc for the object @fp describes (ptr, cookie, flags). */
struct node *node_new(struct proc *proc, const struct flat_binder_object *fp);

/*
 * Takes a count on @node. strong/internal as the kernel's binder_inc_node:
 * internal counts come from refs, local ones from the driver itself. When
 * the owner must learn of a new count, node work is queued on @target_list
 * (the todo of the thread that sent the object) or, for weak counts without
 * a list, refused with -EINVAL as the kernel refuses it.
 */
int node_inc(struct node *node, bool strong, bool internal, struct thread *target_thread);

/*
 * Drops a count. Returns true when the node was freed. When the owner must
 * be told (BR_RELEASE/BR_DECREFS), node work is queued on its todo.
 */
bool node_dec(struct node *node, bool strong, bool internal);

/* Frees @node, which nothing refers to, unlinking it from its tree or list. */
void node_free(struct node *node);

void node_inc_tmpref(struct node *node);
/* Drops a temporary hold; frees the node if it was the last thing holding it. */
void node_dec_tmpref(struct node *node);

/*
 * The owner died: notifies every ref holder that asked for death
 * notifications and moves the node to the driver's dead list, or frees it
 * if nothing refers to it. The caller holds a tmp ref on @node and has
 * released the oneways queued on it (async_todo).
 */
void node_release(struct node *node);

/* Total strong count as GET_NODE_INFO_FOR_REF reports it. */
static inline int node_strong_count(const struct node *node)
{
	return node->local_strong_refs + node->internal_strong_refs;
}
