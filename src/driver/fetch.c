/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/zalloc.h"
#include "common/guarded_copy.h"
#include "driver/fetch.h"
#include "common/binder_object.h"
#include "region/page.h"

/* Reads [off, off + len) of @fd into @dst; 0 or -EFAULT. */
static int pread_all(int fd, uint8_t *dst, uint64_t off, size_t len)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EFAULT;
		dst += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Copies [off, off + len) of @src to @dst. With a memfd behind it (the
 * outbox, whose holes the client makes), a page not resident is read with
 * pread, which gives zeros for a hole: a fault through the mapping would
 * allocate the page into the client's memfd, charged to the daemon and kept
 * there (its state says nothing the daemon may trust), so a client could
 * make the daemon hold its whole outbox by sending from pages it never
 * wrote. Resident runs are one memcpy, as fast as before. A page the
 * client punches between mincore and the copy still costs one page until
 * the client punches or frees it again (a race it must win page by page).
 */
static int local_copy(const struct local_source *src, uint64_t off, uint8_t *dst, size_t len)
{
	enum {
		CHUNK = 256
	}; /* pages a mincore call looks at */
	unsigned char vec[CHUNK];

	if (src->fd < 0)
		return guarded_memcpy(dst, src->mem + off, len);
	while (len) {
		uint64_t first = off & ~(uint64_t)(PAGE_SIZE - 1);
		size_t span = (size_t)(off - first) + len;
		size_t pages = (span + PAGE_SIZE - 1) / PAGE_SIZE;
		size_t i = 0;

		pages = pages < CHUNK ? pages : CHUNK;
		if (mincore((void *)(src->mem + first), pages * PAGE_SIZE, vec) < 0)
			memset(vec, 0, pages); /* all by pread: slower, never wrong */
		while (i < pages && len) {
			bool resident = vec[i] & 1;
			size_t j = i, n;
			int err;

			while (j < pages && (vec[j] & 1) == resident)
				j++;
			/* The run is pages [i, j) from first: the bytes of it from off. */
			n = (size_t)(first + j * PAGE_SIZE - off);
			n = n < len ? n : len;
			err = resident ? guarded_memcpy(dst, src->mem + off, n)
				       : pread_all(src->fd, dst, off, n);
			if (err)
				return err;
			dst += n;
			off += n;
			len -= n;
			i = j;
		}
	}
	return 0;
}

/*
 * Copies sender memory [addr, addr + len) to @dst. Returns 0, -EFAULT, or
 * -EAGAIN when only process_vm_readv could provide it and it is not allowed
 * in this run.
 */
static int read_sender(struct fetch_job *job, bool allow_readv, uint64_t addr, void *dst,
		       uint64_t len)
{
	const struct mem_segment *seg;
	struct iovec local, remote;
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	seg = mem_segments_find(job->segments, job->nsegments, addr, len);
	if (seg) {
		memcpy(dst, seg->bytes + (addr - seg->addr), len);
		job->bytes += len;
		return 0;
	}
	for (size_t i = 0; i < job->nsources; i++) {
		const struct local_source *src = &job->sources[i];

		if (addr >= src->user_base && addr - src->user_base <= src->size &&
		    len <= src->size - (addr - src->user_base)) {
			/* Memory the daemon maps: a plain copy, which cannot block on the peer. */
			if (local_copy(src, addr - src->user_base, dst, len))
				return -EFAULT;
			job->bytes += len;
			job->used_local = true;
			return 0;
		}
	}
	if (!job->may_readv)
		return -EFAULT;
	if (!allow_readv)
		return -EAGAIN;
	local.iov_base = dst;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = len;
	job->used_readv = true;
	n = process_vm_readv(job->pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len) {
		job->bytes += len;
		return 0;
	}
	if (n < 0 && errno == ESRCH)
		job->result = -ESRCH;
	return -EFAULT;
}

/* Whether the sender still lives: a recycled pid must not feed us data. */
static bool sender_alive(const struct fetch_job *job)
{
	struct pollfd p = { .fd = job->pidfd, .events = POLLIN };

	if (job->pidfd < 0)
		return true;
	/* A pidfd polls readable once the process has exited. */
	return poll(&p, 1, 0) == 0;
}

/*
 * Walks the objects as binder_transaction does, copying the data between
 * them into the buffer and each object into the job, and stops where the
 * kernel's loop would stop on a structural error.
 */
static int walk_objects(struct fetch_job *job, bool allow_readv)
{
	uint64_t user_offset = 0;
	int err;

	for (size_t i = 0; i < job->noffsets; i++) {
		struct fetched_object *o = &job->objects[i];
		uint64_t off = job->offsets[i];
		uint64_t read_size;

		/*
		 * The data before the object. The kernel copies it before looking
		 * at the object, into the whole allocated buffer: an object
		 * overlapping the previous one, or lying beyond the buffer, is
		 * reported as a bad data pointer (kernel-facts.md 7).
		 */
		if (off != user_offset) {
			if (user_offset > off || off > job->dst_size) {
				job->stop_error = -EFAULT;
				return 0;
			}
			err = read_sender(job, allow_readv, job->data_ptr + user_offset,
					  job->dst + user_offset, off - user_offset);
			if (err == -EAGAIN)
				return err;
			if (err) {
				job->stop_error = -EFAULT;
				return 0;
			}
		}
		/* The object itself, into the job. */
		if (off > job->data_size || (off & 3) != 0 || job->data_size - off < 8) {
			job->stop_error = -EINVAL;
			return 0;
		}
		read_size = job->data_size - off < OBJECT_MAX_SIZE ? job->data_size - off
								   : OBJECT_MAX_SIZE;
		memset(&o->obj, 0, sizeof(o->obj));
		err = read_sender(job, allow_readv, job->data_ptr + off, o->obj.bytes, read_size);
		if (err == -EAGAIN)
			return err;
		o->size = err ? 0 : binder_object_size(o->obj.hdr.type);
		if (o->size == 0 || o->size > job->data_size - off) {
			job->stop_error = -EINVAL;
			return 0;
		}
		o->offset = off;
		user_offset = off + o->size;
		job->nobjects = i + 1;
	}
	err = read_sender(job, allow_readv, job->data_ptr + user_offset, job->dst + user_offset,
			  job->data_size - user_offset);
	if (err == -EAGAIN)
		return err;
	if (err)
		job->tail_error = -EFAULT;
	return 0;
}

/* A byte range of a parent buffer that the event loop writes instead of the sender. */
struct skip {
	uint64_t begin;
	uint64_t end;
};

static int skip_cmp(const void *a, const void *b)
{
	const struct skip *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/*
 * Collects the ranges of PTR object @parent's buffer that children fix up
 * (pointers of child buffers, fd arrays), sorted. Invalid references are
 * left for the event loop to reject.
 */
static size_t collect_skips(const struct fetch_job *job, size_t parent, struct skip *skips)
{
	const struct binder_buffer_object *pb = &job->objects[parent].obj.bbo;
	size_t n = 0;

	for (size_t j = parent + 1; j < job->nobjects; j++) {
		const union binder_object_bytes *c = &job->objects[j].obj;
		uint64_t begin, len;

		if (c->hdr.type == BINDER_TYPE_PTR &&
		    (c->bbo.flags & BINDER_BUFFER_FLAG_HAS_PARENT) && c->bbo.parent == parent) {
			begin = c->bbo.parent_offset;
			len = sizeof(binder_uintptr_t);
		} else if (c->hdr.type == BINDER_TYPE_FDA && c->fda.parent == parent) {
			begin = c->fda.parent_offset;
			if (c->fda.num_fds > (UINT64_MAX - begin) / sizeof(uint32_t))
				continue;
			len = c->fda.num_fds * sizeof(uint32_t);
		} else {
			continue;
		}
		if (begin > pb->length || len > pb->length - begin || len == 0)
			continue;
		skips[n].begin = begin;
		skips[n].end = begin + len;
		n++;
	}
	qsort(skips, n, sizeof(*skips), skip_cmp);
	return n;
}

/* Copies the scatter-gather buffers, in object order, leaving fix-up ranges out. */
static int copy_sg_buffers(struct fetch_job *job, bool allow_readv)
{
	uint64_t sg_offset = job->sg_begin;
	struct skip *skips = NULL;
	int err = 0;

	for (size_t i = 0; i < job->nobjects; i++) {
		struct fetched_object *o = &job->objects[i];
		const struct binder_buffer_object *bp = &o->obj.bbo;
		uint64_t pos = 0;
		size_t nskips;

		if (o->obj.hdr.type != BINDER_TYPE_PTR)
			continue;
		if (bp->length > job->sg_end - sg_offset)
			break; /* "too large buffer": the event loop fails it here */
		o->sg_offset = sg_offset;
		if (!skips) {
			skips = zalloc_array(job->nobjects, sizeof(*skips));
			if (!skips)
				return -ENOMEM;
		}
		nskips = collect_skips(job, i, skips);
		for (size_t s = 0; s <= nskips && !err; s++) {
			uint64_t end = s < nskips ? skips[s].begin : bp->length;

			if (end > pos)
				err = read_sender(job, allow_readv, bp->buffer + pos,
						  job->dst + sg_offset + pos, end - pos);
			if (s < nskips && skips[s].end > pos)
				pos = skips[s].end;
		}
		if (err == -EAGAIN)
			break;
		if (err) {
			/* The kernel reports a failed scatter-gather copy as EINVAL. */
			job->sg_error = -EINVAL;
			err = 0;
			break;
		}
		sg_offset += (bp->length + 7) & ~(uint64_t)7;
	}
	free(skips);
	return err;
}

/*
 * The sender's parent buffer of objects[i], if objects[i] is an fd array
 * whose numbers fit in an earlier PTR object's buffer; else NULL (the event
 * loop rejects what does not fit).
 */
static const struct binder_buffer_object *fda_parent(const struct fetch_job *job, size_t i)
{
	const struct binder_fd_array_object *fda = &job->objects[i].obj.fda;
	const struct binder_buffer_object *pb;

	if (job->objects[i].obj.hdr.type != BINDER_TYPE_FDA || fda->parent >= i ||
	    job->objects[fda->parent].obj.hdr.type != BINDER_TYPE_PTR)
		return NULL;
	pb = &job->objects[fda->parent].obj.bbo;
	if (fda->parent_offset > pb->length ||
	    fda->num_fds > (pb->length - fda->parent_offset) / sizeof(uint32_t))
		return NULL;
	return pb;
}

/*
 * Reads the sender's descriptor numbers of every fd array (from its parent
 * buffer). The arrays of a valid transaction lie apart inside the
 * scatter-gather buffers, so their counts add up to at most that space; a
 * larger sum (each count "fitting" a parent that claims to be huge) is
 * never sized or read: the event loop fails such a transaction anyway.
 */
static int read_fda_values(struct fetch_job *job, bool allow_readv)
{
	const uint64_t room =
		job->sg_end > job->sg_begin ? (job->sg_end - job->sg_begin) / sizeof(uint32_t) : 0;
	uint64_t total = 0;
	int err;

	for (size_t i = 0; i < job->nobjects; i++) {
		if (!fda_parent(job, i))
			continue;
		if (job->objects[i].obj.fda.num_fds > room - total)
			return 0;
		total += job->objects[i].obj.fda.num_fds;
	}
	if (total == 0)
		return 0;
	job->fda_values = zalloc_array(total, sizeof(uint32_t));
	if (!job->fda_values)
		return -ENOMEM;
	for (size_t i = 0; i < job->nobjects; i++) {
		struct fetched_object *o = &job->objects[i];
		const struct binder_fd_array_object *fda = &o->obj.fda;
		const struct binder_buffer_object *pb = fda_parent(job, i);

		if (!pb)
			continue;
		o->fda_first = job->nfda_values;
		err = read_sender(job, allow_readv, pb->buffer + fda->parent_offset,
				  &job->fda_values[job->nfda_values],
				  fda->num_fds * sizeof(uint32_t));
		if (err == -EAGAIN)
			return err;
		o->fda_read = err == 0;
		job->nfda_values += fda->num_fds;
	}
	return 0;
}

void fetch_job_clear(struct fetch_job *job)
{
	free(job->offsets);
	free(job->objects);
	free(job->fda_values);
	job->offsets = NULL;
	job->objects = NULL;
	job->fda_values = NULL;
	job->noffsets = job->nobjects = job->nfda_values = 0;
	job->offsets_error = job->stop_error = job->tail_error = job->sg_error = 0;
	job->result = 0;
	job->bytes = 0;
	job->used_readv = false;
	job->used_local = false;
}

void fetch_job_run(struct fetch_job *job, bool allow_readv)
{
	uint64_t offsets_at = (job->data_size + 7) & ~(uint64_t)7;
	int err;

	fetch_job_clear(job);
	/* The offsets array first: it says where the objects are. */
	if (job->offsets_size) {
		job->offsets = malloc(job->offsets_size);
		if (!job->offsets) {
			job->result = -ENOMEM;
			return;
		}
		err = read_sender(job, allow_readv, job->offsets_ptr, job->offsets,
				  job->offsets_size);
		if (err == -EAGAIN)
			goto again;
		if (err) {
			job->offsets_error = -EFAULT;
			goto done;
		}
		memcpy(job->dst + offsets_at, job->offsets, job->offsets_size);
	}
	/* An unaligned offsets size fails before any object is looked at. */
	if (job->offsets_size % sizeof(binder_size_t) == 0)
		job->noffsets = job->offsets_size / sizeof(binder_size_t);
	if (job->noffsets) {
		job->objects = zalloc_array(job->noffsets, sizeof(*job->objects));
		if (!job->objects) {
			job->result = -ENOMEM;
			return;
		}
	}
	err = walk_objects(job, allow_readv);
	if (err == 0)
		err = copy_sg_buffers(job, allow_readv);
	if (err == 0)
		err = read_fda_values(job, allow_readv);
	if (err == -EAGAIN)
		goto again;
	if (err) {
		job->result = err;
		return;
	}
done:
	if (job->used_readv && !sender_alive(job))
		job->result = -ESRCH;
	return;
again:
	job->result = -EAGAIN;
}
