/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "driver/bwr.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/txn_buffer.h"

/* LRU release hook: the pages leave memory and every mapping. */
static int proc_release_pages(void *ctx, size_t first_page, size_t count)
{
	struct proc *proc = ctx;
	int err = region_release(&proc->region, first_page, count);

	if (err == 0)
		proc->driver->stats.pages_reclaimed += count;
	return err;
}

int txn_region_create(struct proc *proc, size_t size)
{
	struct range_alloc_backend backend = { .release = proc_release_pages, .ctx = proc };
	char name[48];
	int err;

	snprintf(name, sizeof(name), "ubinder:%s:%d", proc->context->name, proc->id.pid);
	err = region_init(&proc->region, size, name);
	if (err)
		return err;
	err = range_alloc_init(&proc->alloc, size, proc->region.geo, &proc->driver->lru, &backend);
	if (err) {
		region_deinit(&proc->region);
		return err;
	}
	return 0;
}

/* Installs a reservation's pages; on failure shrinks the LRU and tries once more. */
static int install_pages(struct proc *proc, struct page_range range)
{
	struct driver *drv = proc->driver;
	size_t installed;
	int err;

	if (range.count == 0)
		return 0;
	err = region_install(&proc->region, range.first, range.count, &installed);
	if (err) {
		drv->stats.install_failures++;
		drv->stats.shrink_on_install_failure++;
		range_alloc_installed(&proc->alloc, range, installed);
		page_lru_shrink(&drv->lru, range.count - installed);
		range.first += installed;
		range.count -= installed;
		err = region_install(&proc->region, range.first, range.count, &installed);
		if (err)
			drv->stats.install_failures++;
	}
	range_alloc_installed(&proc->alloc, range, installed);
	drv->stats.pages_installed += installed;
	if (err)
		log_warning("%s: proc %d: cannot install %zu pages: %s", proc->context->name,
			    proc->id.pid, range.count, strerror(-err));
	return err;
}

/* Keeps the installed-but-unused pages within the configured budget. */
static void enforce_lru_budget(struct driver *drv)
{
	if (drv->config.max_lru_pages && drv->lru.pages > drv->config.max_lru_pages)
		page_lru_shrink(&drv->lru, drv->lru.pages - drv->config.max_lru_pages);
}

int txn_buffer_alloc(struct proc *proc, uint64_t data_size, uint64_t offsets_size,
		     uint64_t extra_size, bool is_async, pid_t sender_pid, struct txn_buffer **out,
		     bool *spam_suspect)
{
	struct range_reservation res;
	struct txn_buffer *b;
	int err;

	*out = NULL;
	*spam_suspect = false;
	if (!proc_has_region(proc) || proc->is_dead)
		return -ESRCH;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	err = range_alloc_reserve(&proc->alloc, data_size, offsets_size, extra_size, is_async,
				  sender_pid, &res);
	if (err) {
		free(b);
		return err;
	}
	err = install_pages(proc, res.install);
	if (err) {
		range_alloc_release(&proc->alloc, res.buffer);
		free(b);
		return -ENOMEM;
	}
	enforce_lru_budget(proc->driver);
	b->range = res.buffer;
	b->range->owner = b;
	b->proc = proc;
	b->async_transaction = is_async;
	*spam_suspect = res.spam_suspect;
	*out = b;
	return 0;
}

int txn_buffer_add_fda_fd(struct txn_buffer *b, int32_t fd)
{
	if (b->nfda_fds == b->fda_fds_cap) {
		size_t cap = b->fda_fds_cap ? 2 * b->fda_fds_cap : 8;
		int32_t *grown = realloc(b->fda_fds, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		b->fda_fds = grown;
		b->fda_fds_cap = cap;
	}
	b->fda_fds[b->nfda_fds++] = fd;
	return 0;
}

void txn_buffer_release_objects(struct txn_buffer *b)
{
	struct proc *proc = b->proc;

	if (b->target_node) {
		node_dec(b->target_node, true, false);
		b->target_node = NULL;
	}
	for (size_t i = 0; i < b->nheld; i++) {
		const struct held_object *obj = &b->held[i];
		struct node *node;

		switch (obj->type) {
		case BINDER_TYPE_BINDER:
		case BINDER_TYPE_WEAK_BINDER:
			node = node_lookup(proc, obj->ptr);
			if (!node) {
				log_notice("transaction release: bad node %016llx",
					   (unsigned long long)obj->ptr);
				break;
			}
			node_dec(node, obj->type == BINDER_TYPE_BINDER, false);
			break;
		case BINDER_TYPE_HANDLE:
		case BINDER_TYPE_WEAK_HANDLE:
			if (ref_dec_for_handle(proc, obj->handle, obj->type == BINDER_TYPE_HANDLE))
				log_notice("transaction release: bad handle %u", obj->handle);
			break;
		}
	}
	free(b->held);
	b->held = NULL;
	b->nheld = 0;
}

static void txn_buffer_destroy(struct txn_buffer *b)
{
	range_alloc_release(&b->proc->alloc, b->range);
	free(b->held);
	free(b->fda_fds);
	free(b);
}

void txn_buffer_free(struct txn_buffer *b, struct thread *thread)
{
	struct proc *proc = b->proc;

	if (b->transaction) {
		b->transaction->buffer = NULL;
		b->transaction = NULL;
	}
	if (b->async_transaction && b->target_node) {
		struct node *node = b->target_node;
		struct work *w = work_list_pop(&node->async_todo);

		if (!w) {
			node->has_async_transaction = false;
		} else {
			proc_enqueue_work(proc, w);
			proc_wakeup(proc);
		}
	}
	txn_buffer_release_objects(b);
	if (thread && b->nfda_fds) {
		/* The kernel closes fd-array descriptors in the freeing process. */
		thread->looper_need_return = true;
		bwr_close_after_free(thread, b->fda_fds, b->nfda_fds);
	}
	if (b->clear_on_free)
		region_clear(&proc->region, b->range->offset, b->range->size);
	txn_buffer_destroy(b);
}

struct txn_buffer *txn_buffer_prepare_user_free(struct proc *proc, uint64_t ptr, int *error)
{
	struct range_buffer *rb;
	uint64_t offset;
	int err;

	if (!proc_has_region(proc) || ptr < proc->user_base ||
	    ptr - proc->user_base >= proc->region.size) {
		*error = -ENOENT;
		return NULL;
	}
	offset = ptr - proc->user_base;
	err = range_alloc_prepare_user_free(&proc->alloc, offset, &rb);
	if (err) {
		*error = err;
		return NULL;
	}
	return rb->owner;
}

void txn_buffer_release_all(struct proc *proc)
{
	struct range_buffer *rb;

	if (!proc->alloc.lru)
		return;
	while ((rb = range_alloc_first_buffer(&proc->alloc)) != NULL) {
		struct txn_buffer *b = rb->owner;

		if (b->transaction) {
			log_debug("release proc %d: transaction %llu not freed", proc->id.pid,
				  (unsigned long long)b->transaction->debug_id);
			b->transaction->buffer = NULL;
		}
		txn_buffer_destroy(b);
	}
}
