/* SPDX-License-Identifier: MIT */
/* References: a process's handles on other processes' nodes (entities.h). */
#pragma once

#include "driver/entities.h"

RB_PROTOTYPE(ref_desc_tree, ref, by_desc, ref_cmp_desc)
RB_PROTOTYPE(ref_node_tree, ref, by_node, ref_cmp_node)

/*
 * The ref of @proc with handle @desc, or NULL. With @need_strong, a ref that
 * holds no strong count is refused (NULL) as the kernel refuses it.
 */
struct ref *ref_lookup(struct proc *proc, uint32_t desc, bool need_strong);

/* The ref of @proc on @node, or NULL. */
struct ref *ref_lookup_node(struct proc *proc, struct node *node);

/*
 * Takes a strong or weak count on @node for @proc, creating the ref (with the
 * lowest free handle, 0 only for the context manager) if needed. Node work
 * for the owner goes to @target_thread's todo. *desc receives the handle.
 */
int ref_inc_for_node(struct proc *proc, struct node *node, bool strong,
		     struct thread *target_thread, uint32_t *desc);

/* BC_INCREFS..BC_DECREFS on handle @desc: -EINVAL if there is no such ref. */
int ref_update_for_handle(struct proc *proc, uint32_t desc, bool increment, bool strong,
			  uint32_t *desc_out);

/* Drops a count a buffer held (kernel: binder_dec_ref_for_handle). */
int ref_dec_for_handle(struct proc *proc, uint32_t desc, bool strong);

/* Drops every count and frees @ref: the holder died. */
void ref_cleanup_and_free(struct ref *ref);
/* Frees a death notification, giving back its quota. */
void ref_death_free(struct driver *drv, struct ref_death *death);

/* Death notifications: BC_REQUEST_/BC_CLEAR_DEATH_NOTIFICATION, BC_DEAD_BINDER_DONE. */
void ref_request_death(struct thread *thread, uint32_t desc, uint64_t cookie);
void ref_clear_death(struct thread *thread, uint32_t desc, uint64_t cookie);
void ref_dead_binder_done(struct thread *thread, uint64_t cookie);
