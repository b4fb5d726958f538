/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/zalloc.h"
#include "common/log.h"
#include "driver/node.h"
#include "driver/objects.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/txn_buffer.h"

static void user_error(struct txn_translate *x, const char *what)
{
	struct proc *proc = x->thread->proc;

	log_notice("%s: proc %d thread %d: transaction failed: %s", proc->context->name,
		   proc->id.pid, x->thread->tid, what);
}

/* BINDER_TYPE_(WEAK_)BINDER from the sender becomes a handle in the target. */
static int translate_binder(struct txn_translate *x, struct flat_binder_object *fp,
			    struct held_object *held)
{
	struct proc *proc = x->thread->proc;
	struct node *node = node_lookup(proc, fp->binder);
	bool strong = fp->hdr.type == BINDER_TYPE_BINDER;
	uint32_t desc;
	int err;

	if (!node) {
		node = node_new(proc, fp);
		if (!node)
			return -ENOMEM;
	}
	if (fp->cookie != node->cookie) {
		user_error(x, "node cookie mismatch");
		/* The node may be new and unreferenced: let it go if so. */
		node_inc_tmpref(node);
		node_dec_tmpref(node);
		return -EINVAL;
	}
	node_inc_tmpref(node);
	err = ref_inc_for_node(x->target_proc, node, strong, x->thread, &desc);
	node_dec_tmpref(node);
	if (err)
		return err;
	fp->hdr.type = strong ? BINDER_TYPE_HANDLE : BINDER_TYPE_WEAK_HANDLE;
	fp->binder = 0;
	fp->handle = desc;
	fp->cookie = 0;
	held->type = fp->hdr.type;
	held->handle = desc;
	return 0;
}

/* BINDER_TYPE_(WEAK_)HANDLE: a handle again in the target, or its own node. */
static int translate_handle(struct txn_translate *x, struct flat_binder_object *fp,
			    struct held_object *held)
{
	struct proc *proc = x->thread->proc;
	bool strong = fp->hdr.type == BINDER_TYPE_HANDLE;
	struct ref *ref = ref_lookup(proc, fp->handle, strong);
	struct node *node;
	int err = 0;

	if (!ref) {
		user_error(x, "invalid handle");
		return -EINVAL;
	}
	node = ref->node;
	node_inc_tmpref(node);
	if (node->proc == x->target_proc) {
		fp->hdr.type = strong ? BINDER_TYPE_BINDER : BINDER_TYPE_WEAK_BINDER;
		fp->binder = node->ptr;
		fp->cookie = node->cookie;
		err = node_inc(node, strong, false, NULL);
		held->type = fp->hdr.type;
		held->ptr = node->ptr;
	} else {
		uint32_t desc;

		err = ref_inc_for_node(x->target_proc, node, strong, NULL, &desc);
		if (!err) {
			fp->binder = 0;
			fp->handle = desc;
			fp->cookie = 0;
			held->type = fp->hdr.type;
			held->handle = desc;
		}
	}
	node_dec_tmpref(node);
	return err;
}

/* The daemon's copy of sender descriptor @fd, duplicated for one fix-up. */
static int sender_file(const struct thread *sender, const struct bwr_state *bwr, uint32_t fd)
{
	if (sender->peer.fds_by_pidfd) {
		int copy = (int)syscall(SYS_pidfd_getfd, sender->peer.pidfd, (int)fd, 0);

		return copy >= 0 ? copy : errno == EBADF ? -EBADF : -ENOMEM;
	}
	for (size_t i = 0; i < bwr->nfds; i++) {
		if ((uint32_t)bwr->sender_fds[i] == fd && bwr->fds[i] >= 0) {
			int copy = fcntl(bwr->fds[i], F_DUPFD_CLOEXEC, 0);

			return copy >= 0 ? copy : -ENOMEM;
		}
	}
	return -EBADF;
}

static int add_fd_fixup(struct transaction *t, int fd, uint64_t offset, bool close_on_free)
{
	struct fd_fixup *grown = realloc(t->fixups, (t->nfixups + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	t->fixups = grown;
	t->fixups[t->nfixups].fd = fd;
	t->fixups[t->nfixups].offset = offset;
	t->fixups[t->nfixups].close_on_free = close_on_free;
	t->nfixups++;
	return 0;
}

static int translate_fd(struct txn_translate *x, uint32_t fd, uint64_t fd_offset,
			bool close_on_free)
{
	struct transaction *t = x->t;
	bool allowed;
	int file, err;

	if (x->in_reply_to)
		allowed = !!(x->in_reply_to->flags & TF_ACCEPT_FDS);
	else
		allowed = t->buffer->target_node->accept_fds;
	if (!allowed) {
		user_error(x, "fd given to a target that does not accept fds");
		return -EPERM;
	}
	file = sender_file(x->thread, x->bwr, fd);
	if (file < 0) {
		user_error(x, "invalid fd");
		return file;
	}
	err = add_fd_fixup(t, file, fd_offset, close_on_free);
	if (err)
		close(file);
	return err;
}

/* The PTR object at objects[index], translated, if index < num_valid (binder_validate_ptr). */
static const struct binder_buffer_object *validate_ptr(const struct fetch_job *job,
						       const union binder_object_bytes *xlat,
						       uint64_t index, size_t num_valid)
{
	if (index >= num_valid || job->objects[index].obj.hdr.type != BINDER_TYPE_PTR)
		return NULL;
	return &xlat[index].bbo;
}

/*
 * Fix-ups must come in order: into the last buffer fixed up or one of its
 * ancestors, and after the previous fix-up (binder_validate_fixup). Objects
 * are named by their data offset, 0 meaning none, as the kernel names them.
 */
static bool validate_fixup(const struct txn_translate *x, const union binder_object_bytes *xlat,
			   size_t parent_index, uint64_t fixup_offset)
{
	const struct fetch_job *job = x->job;
	uint64_t parent_off = job->objects[parent_index].offset;
	uint64_t last_min = x->last_fixup_min_off;
	uint64_t last_off;
	size_t last;

	if (!x->have_last_fixup)
		return false;
	last = x->last_fixup_obj;
	last_off = job->objects[last].offset;
	if (last_off == 0)
		return false;
	while (last_off != parent_off) {
		const struct binder_buffer_object *bbo;

		if (job->objects[last].obj.hdr.type != BINDER_TYPE_PTR)
			return false;
		bbo = &xlat[last].bbo;
		if (!(bbo->flags & BINDER_BUFFER_FLAG_HAS_PARENT) || bbo->parent >= job->nobjects)
			return false;
		last_min = bbo->parent_offset + sizeof(uintptr_t);
		last = bbo->parent;
		last_off = job->objects[last].offset;
	}
	return fixup_offset >= last_min;
}

/*
 * The parent of a fix-up at @parent_offset into objects[@parent] by object
 * @i: a PTR object before @i, fixed up in order. NULL after reporting why.
 */
static const struct binder_buffer_object *fixup_parent(struct txn_translate *x,
						       const union binder_object_bytes *xlat,
						       uint64_t parent, uint64_t parent_offset,
						       size_t i)
{
	const struct binder_buffer_object *bbo = validate_ptr(x->job, xlat, parent, i);

	if (!bbo) {
		user_error(x, "invalid parent offset or type");
		return NULL;
	}
	if (!validate_fixup(x, xlat, parent, parent_offset)) {
		user_error(x, "out-of-order buffer fixup");
		return NULL;
	}
	return bbo;
}

static int translate_ptr(struct txn_translate *x, size_t i, union binder_object_bytes *xlat,
			 uint64_t *sg_cursor)
{
	const struct fetch_job *job = x->job;
	struct binder_buffer_object *bp = &xlat[i].bbo;
	struct txn_buffer *buffer = x->t->buffer;
	const struct binder_buffer_object *parent;
	uint64_t at;

	if (bp->length > job->sg_end - *sg_cursor) {
		user_error(x, "too large buffer");
		return -EINVAL;
	}
	bp->buffer = txn_buffer_user_addr(buffer) + *sg_cursor;
	*sg_cursor += (bp->length + 7) & ~(uint64_t)7;

	if (bp->flags & BINDER_BUFFER_FLAG_HAS_PARENT) {
		parent = fixup_parent(x, xlat, bp->parent, bp->parent_offset, i);
		if (!parent)
			return -EINVAL;
		if (parent->length < sizeof(binder_uintptr_t) ||
		    bp->parent_offset > parent->length - sizeof(binder_uintptr_t)) {
			user_error(x, "invalid parent offset");
			return -EINVAL;
		}
		/* The parent's copy gets the child's address in the target. */
		at = parent->buffer - txn_buffer_user_addr(buffer) + bp->parent_offset;
		memcpy(txn_buffer_mem(buffer) + at, &bp->buffer, sizeof(bp->buffer));
	}
	x->last_fixup_obj = i;
	x->have_last_fixup = true;
	x->last_fixup_min_off = 0;
	return 0;
}

static int translate_fda(struct txn_translate *x, size_t i, union binder_object_bytes *xlat)
{
	const struct fetch_job *job = x->job;
	const struct binder_fd_array_object *fda = &xlat[i].fda;
	const struct fetched_object *o = &job->objects[i];
	struct txn_buffer *buffer = x->t->buffer;
	const struct binder_buffer_object *parent, *sender_parent;
	uint64_t fda_offset;
	int err;

	parent = fixup_parent(x, xlat, fda->parent, fda->parent_offset, i);
	if (!parent)
		return -EINVAL;
	sender_parent = &job->objects[fda->parent].obj.bbo;
	if (fda->num_fds) {
		if (fda->num_fds >= SIZE_MAX / sizeof(uint32_t)) {
			user_error(x, "invalid number of fds");
			return -EINVAL;
		}
		if (fda->num_fds * sizeof(uint32_t) > parent->length ||
		    fda->parent_offset > parent->length - fda->num_fds * sizeof(uint32_t)) {
			user_error(x, "not enough space to store the fds in buffer");
			return -EINVAL;
		}
		fda_offset = parent->buffer - txn_buffer_user_addr(buffer) + fda->parent_offset;
		if ((fda_offset & 3) || ((sender_parent->buffer + fda->parent_offset) & 3)) {
			user_error(x, "parent offset not aligned correctly");
			return -EINVAL;
		}
		for (uint64_t k = 0; k < fda->num_fds; k++) {
			if (!o->fda_read)
				return -EINVAL; /* the sender's array could not be read */
			err = translate_fd(x, job->fda_values[o->fda_first + k],
					   fda_offset + k * sizeof(uint32_t), true);
			if (err)
				return err;
		}
	}
	x->last_fixup_obj = fda->parent;
	x->have_last_fixup = true;
	x->last_fixup_min_off = fda->parent_offset + sizeof(uint32_t) * fda->num_fds;
	return 0;
}

struct binder_error objects_translate(struct txn_translate *x)
{
	const struct fetch_job *job = x->job;
	struct txn_buffer *buffer = x->t->buffer;
	union binder_object_bytes *xlat;
	uint64_t sg_cursor = job->sg_begin;
	int err = 0;

	if (job->nobjects == 0)
		return binder_ok();
	xlat = malloc(job->nobjects * sizeof(*xlat));
	buffer->held = zalloc_array(job->nobjects, sizeof(*buffer->held));
	if (!xlat || !buffer->held) {
		free(xlat);
		return binder_failed(-ENOMEM);
	}
	for (size_t i = 0; i < job->nobjects; i++) {
		const struct fetched_object *o = &job->objects[i];
		struct held_object held = { 0 };

		xlat[i] = o->obj;
		switch (o->obj.hdr.type) {
		case BINDER_TYPE_BINDER:
		case BINDER_TYPE_WEAK_BINDER:
			err = translate_binder(x, &xlat[i].fbo, &held);
			break;
		case BINDER_TYPE_HANDLE:
		case BINDER_TYPE_WEAK_HANDLE:
			err = translate_handle(x, &xlat[i].fbo, &held);
			break;
		case BINDER_TYPE_FD:
			err = translate_fd(x, xlat[i].fd.fd,
					   o->offset + offsetof(struct binder_fd_object, fd),
					   false);
			xlat[i].fd.pad_binder = 0;
			break;
		case BINDER_TYPE_FDA:
			err = translate_fda(x, i, xlat);
			break;
		case BINDER_TYPE_PTR:
			err = translate_ptr(x, i, xlat, &sg_cursor);
			break;
		default:
			err = -EINVAL;
			break;
		}
		if (err)
			break;
		if (held.type)
			buffer->held[buffer->nheld++] = held;
		memcpy(txn_buffer_mem(buffer) + o->offset, &xlat[i], o->size);
	}
	free(xlat);
	return err ? binder_failed(err) : binder_ok();
}
