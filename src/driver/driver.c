/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "driver/todo.h"
#include "driver/bwr.h"
#include "driver/node.h"
#include "driver/outbox.h"
#include "driver/proc.h"
#include "driver/thread.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"

static const char *const quota_names[DRIVER_QUOTAS] = {
	[DRIVER_QUOTA_NODES] = "nodes",
	[DRIVER_QUOTA_REFS] = "refs",
	[DRIVER_QUOTA_DEATHS] = "death notifications",
	[DRIVER_QUOTA_ONEWAY_BYTES] = "oneway bytes",
};

struct driver *driver_new(const struct driver_config *config, const struct driver_ops *ops,
			  void *daemon)
{
	struct driver *drv = calloc(1, sizeof(*drv));

	if (!drv)
		return NULL;
	drv->config = *config;
	uid_quotas_init(&drv->quotas, DRIVER_QUOTAS, quota_names);
	drv->quotas.limit[DRIVER_QUOTA_NODES] = config->max_nodes_per_uid;
	drv->quotas.limit[DRIVER_QUOTA_REFS] = config->max_refs_per_uid;
	drv->quotas.limit[DRIVER_QUOTA_DEATHS] = config->max_deaths_per_uid;
	drv->quotas.limit[DRIVER_QUOTA_ONEWAY_BYTES] = config->max_oneway_bytes_per_uid;
	drv->ops = ops;
	drv->daemon = daemon;
	TAILQ_INIT(&drv->contexts);
	TAILQ_INIT(&drv->procs);
	LIST_INIT(&drv->dead_nodes);
	TAILQ_INIT(&drv->wake_list);
	buffer_pool_init(&drv->pool, config->max_lru_pages);
	drv->pool.max_installed_pages = config->max_installed_pages;
	drv->pool.decay_ms = config->lru_decay_ms;
	drv->pool.now_ms = driver_now_ms;
	if (config->huge_page_size) {
		if (buffer_pool_set_huge(&drv->pool, config->huge_page_size) == 0)
			log_notice("huge pages: regions use %s pages where their size allows",
				   drv->pool.huge_status);
		else
			log_warning("huge pages %s; regions use base pages", drv->pool.huge_status);
	}
	transaction_pools_init(drv);
	drv->read_buf = malloc(config->max_read_size);
	drv->out_fds = malloc(config->max_fds * sizeof(int));
	if (!drv->read_buf || !drv->out_fds)
		return driver_free(drv);
	return drv;
}

struct driver *driver_free(struct driver *drv)
{
	struct context *ctx;
	struct proc *proc, *next;

	if (!drv)
		return NULL;
	TAILQ_FOREACH_SAFE(proc, &drv->procs, driver_entry, next)
		driver_proc_release(proc);
	/* Procs still held by fetch jobs are the daemon's to drain first. */
	while ((ctx = TAILQ_FIRST(&drv->contexts)) != NULL) {
		TAILQ_REMOVE(&drv->contexts, ctx, entry);
		free(ctx);
	}
	buffer_pool_deinit(&drv->pool);
	transaction_pools_deinit(drv);
	uid_quotas_deinit(&drv->quotas);
	free(drv->read_buf);
	free(drv->out_fds);
	free(drv);
	return NULL;
}

struct context *driver_add_context(struct driver *drv, const char *name)
{
	struct context *ctx;

	if (strlen(name) >= sizeof(ctx->name))
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->driver = drv;
	strcpy(ctx->name, name);
	TAILQ_INIT(&ctx->procs);
	TAILQ_INSERT_TAIL(&drv->contexts, ctx, entry);
	return ctx;
}

const char *context_name(const struct context *ctx)
{
	return ctx->name;
}

int driver_thread_attach(struct proc *proc, pid_t tid, const struct thread_peer *peer, void *conn,
			 struct thread **out)
{
	driver_take_lazy_reads(proc->driver);
	*out = NULL;
	if (proc->is_dead)
		return -ESRCH;
	if (proc->driver->config.max_threads &&
	    proc->nthreads >= proc->driver->config.max_threads) {
		log_notice("%s: proc %d: too many threads (%u)", proc->context->name, proc->id.pid,
			   proc->nthreads);
		return -EAGAIN;
	}
	*out = thread_new(proc, tid, conn);
	if (!*out)
		return -ENOMEM;
	(*out)->peer = *peer;
	return 0;
}

void driver_thread_detach(struct thread *thread)
{
	driver_take_lazy_reads(thread->proc->driver);
	if (thread->is_dead)
		return;
	thread->conn = NULL;
	thread_release(thread);
}

void driver_fetch_done(struct driver *drv, struct fetch_job *job)
{
	struct thread *thread = transaction_job_thread(job);

	driver_take_lazy_reads(drv);
	thread_inc_tmpref(thread);
	transaction_fetch_done(job);
	if (!thread->is_dead && thread->bwr.phase == BWR_WRITING) {
		thread->bwr.phase = BWR_IDLE;
		bwr_run(thread);
	}
	thread_dec_tmpref(thread);
}

void driver_flush(struct driver *drv)
{
	struct thread *thread;

	while ((thread = TAILQ_FIRST(&drv->wake_list)) != NULL) {
		TAILQ_REMOVE(&drv->wake_list, thread, wake_entry);
		thread->on_wake_list = false;
		bwr_woken(thread);
	}
}

size_t driver_lru_pages(const struct driver *drv)
{
	return buffer_pool_lru_pages(&drv->pool);
}

void driver_set_memory_headroom(struct driver *drv, size_t (*headroom)(void *ctx, size_t wanted),
				void *ctx)
{
	drv->pool.headroom = headroom;
	drv->pool.headroom_ctx = ctx;
}

/* Gives back the freed pages of every live process's outbox. */
static size_t reclaim_outboxes(struct driver *drv, enum reclaim_cause cause, bool decay)
{
	struct proc *proc;
	size_t given = 0;

	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (!proc->is_dead)
			given += outbox_reclaim(proc, cause, decay);
	}
	return given;
}

size_t driver_relieve_pressure(struct driver *drv, size_t pages)
{
	/* An open promise's room is active memory: give it back first. */
	driver_take_lazy_reads(drv);
	return buffer_pool_shrink(&drv->pool, pages, RECLAIM_PRESSURE) +
	       reclaim_outboxes(drv, RECLAIM_PRESSURE, false);
}

/* Whether some live process shares outbox page states (its freed pages decay). */
static bool outboxes_decay(const struct driver *drv)
{
	const struct proc *proc;

	if (!drv->pool.decay_ms)
		return false;
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (!proc->is_dead && proc->outbox_states)
			return true;
	}
	return false;
}

size_t driver_decay(struct driver *drv, uint64_t now_ms)
{
	size_t released;

	driver_take_lazy_reads(drv); /* open promises' rooms first */
	released = buffer_pool_decay(&drv->pool, now_ms);

	/* Outboxes are scanned a decay time apart: a page FREE at two scans in a
	 * row goes (src/driver/outbox.h). */
	if (outboxes_decay(drv) && now_ms - drv->outbox_scan_ms >= drv->pool.decay_ms) {
		drv->outbox_scan_ms = now_ms;
		released += reclaim_outboxes(drv, RECLAIM_DECAY, true);
	}
	return released;
}

uint64_t driver_next_decay(const struct driver *drv)
{
	uint64_t next = buffer_pool_next_decay(&drv->pool);

	if (outboxes_decay(drv) && drv->outbox_scan_ms + drv->pool.decay_ms < next)
		next = drv->outbox_scan_ms + drv->pool.decay_ms;
	return next;
}

size_t driver_shrink(struct driver *drv, size_t pages)
{
	size_t released;
	struct proc *proc;

	driver_take_lazy_reads(drv); /* open promises' rooms first */
	released = buffer_pool_shrink(&drv->pool, pages, RECLAIM_ADMIN);

	if (pages != SIZE_MAX)
		return released;
	released += reclaim_outboxes(drv, RECLAIM_ADMIN, false);
	/*
	 * Everything: also punch the non-active ranges the allocator believes
	 * free, since a client reading a hole through its mapping makes shmem
	 * allocate a page there (docs/conformance.md).
	 */
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (!proc->is_dead)
			buffer_space_punch_inactive(&proc->space);
	}
	return released;
}
