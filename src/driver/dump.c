/* SPDX-License-Identifier: MIT */
/*
 * Text dumps in the spirit of the kernel's binder debugfs files (state,
 * stats, transactions), plus ubinder's own counters: copy paths, ignored
 * commands, reclaim.
 */
#include <inttypes.h>
#include <stdio.h>

#include "driver/todo.h"
#include "driver/node.h"
#include "driver/outbox.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/txn_buffer.h"

static const char *const bc_names[STATS_BC_COUNT] = {
	"BC_TRANSACTION",
	"BC_REPLY",
	"BC_ACQUIRE_RESULT",
	"BC_FREE_BUFFER",
	"BC_INCREFS",
	"BC_ACQUIRE",
	"BC_RELEASE",
	"BC_DECREFS",
	"BC_INCREFS_DONE",
	"BC_ACQUIRE_DONE",
	"BC_ATTEMPT_ACQUIRE",
	"BC_REGISTER_LOOPER",
	"BC_ENTER_LOOPER",
	"BC_EXIT_LOOPER",
	"BC_REQUEST_DEATH_NOTIFICATION",
	"BC_CLEAR_DEATH_NOTIFICATION",
	"BC_DEAD_BINDER_DONE",
	"BC_TRANSACTION_SG",
	"BC_REPLY_SG",
};

static const char *const br_names[STATS_BR_COUNT] = {
	"BR_ERROR",
	"BR_OK",
	"BR_TRANSACTION",
	"BR_REPLY",
	"BR_ACQUIRE_RESULT",
	"BR_DEAD_REPLY",
	"BR_TRANSACTION_COMPLETE",
	"BR_INCREFS",
	"BR_ACQUIRE",
	"BR_RELEASE",
	"BR_DECREFS",
	"BR_ATTEMPT_ACQUIRE",
	"BR_NOOP",
	"BR_SPAWN_LOOPER",
	"BR_FINISHED",
	"BR_DEAD_BINDER",
	"BR_CLEAR_DEATH_NOTIFICATION_DONE",
	"BR_FAILED_REPLY",
	"BR_FROZEN_REPLY",
	"BR_ONEWAY_SPAM_SUSPECT",
};

static void dump_node(FILE *out, const struct node *node)
{
	const struct ref *ref;
	int count = 0;

	LIST_FOREACH(ref, &node->refs, node_entry)
		count++;
	fprintf(out,
		"  node %" PRIu64 ": u%016" PRIx64 " c%016" PRIx64
		" hs %d hw %d ls %d lw %d is %d iw %d tr %d",
		node->debug_id, node->ptr, node->cookie, node->has_strong_ref, node->has_weak_ref,
		node->local_strong_refs, node->local_weak_refs, node->internal_strong_refs, count,
		node->tmp_refs);
	if (count) {
		fprintf(out, " proc");
		LIST_FOREACH(ref, &node->refs, node_entry)
			fprintf(out, " %d", ref->proc->id.pid);
	}
	fprintf(out, "\n");
}

/* "reclaimed: pressure N budget N decay N admin N install failure N cgroup limit N" */
static void dump_reclaimed(FILE *out, const char *indent, const uint64_t *by_cause)
{
	fprintf(out, "%sreclaimed:", indent);
	for (int i = 0; i < RECLAIM_CAUSES; i++)
		fprintf(out, " %s %" PRIu64, reclaim_cause_names[i], by_cause[i]);
	fprintf(out, "\n");
}

static void dump_proc(FILE *out, struct proc *proc)
{
	const struct thread *thread;
	struct node *node;
	struct ref *ref;
	struct range_alloc_stats as = { 0 };

	fprintf(out, "proc %d\ncontext %s\n", proc->id.pid, proc->context->name);
	fprintf(out, "  comm %s euid %u copy %s map %s\n", proc->id.comm, (unsigned)proc->id.euid,
		proc->id.can_read_memory ? "readv" : "push", buffer_space_state_name(&proc->space));
	TAILQ_FOREACH(thread, &proc->threads, proc_entry) {
		int tr = 0;

		for (const struct transaction *t = thread->transaction_stack; t;
		     t = t->to_thread == thread ? t->to_parent : t->from_parent)
			tr++;
		fprintf(out, "  thread %d: l %02x need_return %d tr %d\n", thread->tid,
			thread->looper, thread->looper_need_return, tr);
	}
	RB_FOREACH(node, node_tree, &proc->nodes)
		dump_node(out, node);
	RB_FOREACH(ref, ref_desc_tree, &proc->refs_by_desc) {
		fprintf(out, "  ref %" PRIu64 ": desc %u %snode %" PRIu64 " s %d w %d d %s\n",
			ref->debug_id, ref->desc, ref->node->proc ? "" : "dead ",
			ref->node->debug_id, ref->strong, ref->weak, ref->death ? "yes" : "no");
	}
	for (const struct range_buffer *rb = buffer_space_first(&proc->space); rb;
	     rb = buffer_space_next(&proc->space, rb)) {
		fprintf(out, "  buffer: %zu size %zu:%zu:%zu %s%s\n", rb->offset, rb->data_size,
			rb->offsets_size, rb->extra_size,
			rb->state == RANGE_BUFFER_DELIVERED ? "delivered" : "active",
			rb->async ? " async" : "");
	}
	buffer_space_get_stats(&proc->space, &as);
	fprintf(out, "  pages: %zu:%zu:%zu\n", as.pages_active, as.pages_lru, as.pages_free);
	fprintf(out, "  pages high watermark: %zu\n", as.pages_high);
	fprintf(out, "  resident pages: %zu\n", buffer_space_resident_pages(&proc->space));
	if (buffer_space_exists(&proc->space))
		fprintf(out, "  page size: %zu\n", buffer_space_page_size(&proc->space));
	dump_reclaimed(out, "  ", proc->space.reclaimed);
	if (proc->outbox) {
		struct outbox_pages op;

		outbox_count(proc, &op);
		/* used:free:holes of the pages after the states; resident: all. */
		fprintf(out, "  outbox pages: %zu:%zu:%zu%s\n", op.used, op.free, op.holes,
			proc->outbox_states ? "" : " (no page states)");
		fprintf(out, "  outbox state pages: %zu\n", op.state_pages);
		fprintf(out, "  outbox resident pages: %zu\n", op.resident);
		fprintf(out, "  outbox ");
		dump_reclaimed(out, "", proc->outbox_reclaimed);
	}
	fprintf(out, "  buffers: %zu\n", as.buffers);
	fprintf(out, "  free async space: %zu\n", as.free_async_space);
	fprintf(out, "  requested threads: %u+%u/%u\n", proc->requested_threads,
		proc->requested_threads_started, proc->max_threads);
	fprintf(out, "  outstanding transactions: %d\n", proc->outstanding_txns);
	for (int i = 0; i < IGNORED_COUNT; i++) {
		if (proc->stats.ignored[i])
			fprintf(out, "  ignored %s: %" PRIu64 "\n", ignored_kind_names[i],
				proc->stats.ignored[i]);
	}
	for (int i = 0; i < DEAD_REPLY_CAUSES; i++) {
		if (proc->stats.dead_replies[i])
			fprintf(out, "  dead reply %s: %" PRIu64 "\n", dead_reply_cause_names[i],
				proc->stats.dead_replies[i]);
	}
}

void driver_dump_state(struct driver *drv, FILE *out, pid_t only_pid)
{
	const struct node *node;
	struct proc *proc;

	driver_take_lazy_reads(drv);
	fprintf(out, "binder state:\n");
	if (only_pid <= 0 && !LIST_EMPTY(&drv->dead_nodes)) {
		fprintf(out, "dead nodes:\n");
		LIST_FOREACH(node, &drv->dead_nodes, dead_entry)
			dump_node(out, node);
	}
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (proc->is_dead || (only_pid > 0 && proc->id.pid != only_pid))
			continue;
		dump_proc(out, proc);
	}
}

/* One kind of object: how many live now, and how many were ever created. */
static void dump_lifetime(FILE *out, const char *kind, uint64_t created, uint64_t deleted)
{
	fprintf(out, "%s: active %" PRIu64 " total %" PRIu64 "\n", kind, created - deleted,
		created);
}

void driver_dump_stats(struct driver *drv, FILE *out)
{
	const struct driver_stats *s = &drv->stats;
	const struct buffer_pool_stats *ps = &drv->pool.stats;
	const struct proc *proc;
	size_t procs = 0, threads = 0, active = 0, lru = 0, free_pages = 0, buffers = 0;
	size_t resident = 0;

	driver_take_lazy_reads(drv);
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		struct range_alloc_stats as;

		if (proc->is_dead)
			continue;
		procs++;
		threads += proc->nthreads;
		buffer_space_get_stats(&proc->space, &as);
		active += as.pages_active;
		lru += as.pages_lru;
		free_pages += as.pages_free;
		buffers += as.buffers;
		resident += buffer_space_resident_pages(&proc->space);
	}
	fprintf(out, "procs: %zu\nthreads: %zu\nbuffers: %zu\n", procs, threads, buffers);
	fprintf(out, "pages: %zu:%zu:%zu\n", active, lru, free_pages);
	fprintf(out, "lru pages: %zu\n", buffer_pool_lru_pages(&drv->pool));
	fprintf(out, "resident pages: %zu\n", resident);
	fprintf(out, "installed pages: %zu max %zu\n", drv->pool.installed_pages,
		drv->pool.max_installed_pages);
	fprintf(out, "lru decay: %" PRIu64 " ms\n", drv->pool.decay_ms);
	fprintf(out, "huge pages: %s\n", drv->pool.huge_status[0] ? drv->pool.huge_status : "off");
	fprintf(out, "huge page regions: %" PRIu64 "\n", drv->pool.huge_regions);
	fprintf(out, "base page regions beside them: %" PRIu64 "\n", drv->pool.base_regions);
	for (int i = 0; i < STATS_BC_COUNT; i++) {
		if (s->bc[i])
			fprintf(out, "%s: %" PRIu64 "\n", bc_names[i], s->bc[i]);
	}
	for (int i = 0; i < STATS_BR_COUNT; i++) {
		if (s->br[i])
			fprintf(out, "%s: %" PRIu64 "\n", br_names[i], s->br[i]);
	}
	dump_lifetime(out, "proc", s->procs_created, s->procs_deleted);
	dump_lifetime(out, "thread", s->threads_created, s->threads_deleted);
	dump_lifetime(out, "node", s->nodes_created, s->nodes_deleted);
	dump_lifetime(out, "ref", s->refs_created, s->refs_deleted);
	dump_lifetime(out, "death", s->deaths_created, s->deaths_deleted);
	uid_quotas_dump_stats(&drv->quotas, "driver ", out);
	dump_lifetime(out, "transaction", s->transactions_created, s->transactions_deleted);
	fprintf(out, "transactions failed: %" PRIu64 "\n", s->transactions_failed);
	fprintf(out,
		"reply promises made: %" PRIu64 ", kept: %" PRIu64 ", cancelled: %" PRIu64 "\n",
		s->promises_made, s->promises_kept, s->promises_cancelled);
	fprintf(out, "copies inline: %" PRIu64 " bytes %" PRIu64 "\n", s->copies[COPY_INLINE],
		s->copy_bytes[COPY_INLINE]);
	fprintf(out, "copies readv: %" PRIu64 " bytes %" PRIu64 "\n", s->copies[COPY_READV],
		s->copy_bytes[COPY_READV]);
	fprintf(out, "copies local: %" PRIu64 " bytes %" PRIu64 "\n", s->copies[COPY_LOCAL],
		s->copy_bytes[COPY_LOCAL]);
	fprintf(out, "push-mode procs: %" PRIu64 "\n", s->push_mode_procs);
	fprintf(out, "pages installed: %" PRIu64 "\n", ps->pages_installed);
	fprintf(out, "install failures: %" PRIu64 "\n", ps->install_failures);
	fprintf(out, "shrink on install failure: %" PRIu64 "\n", ps->shrink_on_install_failure);
	fprintf(out, "install budget failures: %" PRIu64 "\n", ps->budget_failures);
	fprintf(out, "install limit failures: %" PRIu64 "\n", ps->limit_failures);
	fprintf(out, "pages reclaimed: %" PRIu64 "\n", ps->pages_reclaimed);
	dump_reclaimed(out, "", ps->reclaimed);
	fprintf(out, "outbox ");
	dump_reclaimed(out, "", drv->outbox_reclaimed);
	fprintf(out, "holes punched: %" PRIu64 "\n", ps->holes_punched);
	for (int i = 0; i < IGNORED_COUNT; i++)
		fprintf(out, "ignored %s: %" PRIu64 "\n", ignored_kind_names[i], s->ignored[i]);
	for (int i = 0; i < DEAD_REPLY_CAUSES; i++)
		fprintf(out, "dead reply %s: %" PRIu64 "\n", dead_reply_cause_names[i],
			s->dead_replies[i]);
}

static void dump_transaction(FILE *out, const char *prefix, const struct transaction *t)
{
	fprintf(out, "    %s %" PRIu64 ": from %d:%d to %d:%d code %x flags %x", prefix,
		t->debug_id, t->from ? t->from->proc->id.pid : 0, t->from ? t->from->tid : 0,
		t->to_proc ? t->to_proc->id.pid : 0, t->to_thread ? t->to_thread->tid : 0, t->code,
		t->flags);
	if (t->buffer)
		fprintf(out, " size %zu:%zu", t->buffer->range->data_size,
			t->buffer->range->offsets_size);
	fprintf(out, "\n");
}

void driver_dump_transactions(struct driver *drv, FILE *out)
{
	const struct proc *proc;

	driver_take_lazy_reads(drv);
	fprintf(out, "binder transactions:\n");
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		const struct thread *thread;
		const struct work *w;

		if (proc->is_dead)
			continue;
		fprintf(out, "proc %d (%s)\n", proc->id.pid, proc->context->name);
		TAILQ_FOREACH(thread, &proc->threads, proc_entry) {
			const struct transaction *t = thread->transaction_stack;

			if (!t)
				continue;
			fprintf(out, "  thread %d:\n", thread->tid);
			while (t) {
				if (t->from == thread) {
					dump_transaction(out, "outgoing transaction", t);
					t = t->from_parent;
				} else {
					dump_transaction(out, "incoming transaction", t);
					t = t->to_parent;
				}
			}
		}
		TAILQ_FOREACH(w, &proc->todo.items, entry) {
			if (w->type == WORK_TRANSACTION)
				dump_transaction(
					out, "pending transaction",
					(const struct transaction *)((const char *)w -
								     offsetof(struct transaction,
									      work)));
		}
	}
}
